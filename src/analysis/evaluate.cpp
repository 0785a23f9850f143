#include "antiphon/analysis/evaluate.h"

#include <atomic>
#include <chrono>
#include <exception>
#include <mutex>
#include <numeric>
#include <thread>

#include "antiphon/corpus/corpus.h"
#include "antiphon/models/registry.h"

namespace antiphon {

EvalTarget parse_eval_target(const std::string& text) {
  if (text == "pitch") return EvalTarget::pitch;
  if (text == "note") return EvalTarget::note;
  throw ConfigError("--target " + text + ": expected pitch or note");
}

std::string eval_target_name(EvalTarget target) { return target == EvalTarget::pitch ? "pitch" : "note"; }

void EvalOptions::validate() const {
  if (folds < 2) throw ConfigError("--folds " + std::to_string(folds) + ": cross-validation needs at least 2 folds");
  if (threads < 0) throw ConfigError("--threads " + std::to_string(threads) + " is negative");
}

TargetEncoding target_encoding(EvalTarget target, const std::vector<Melody>& melodies) {
  return TargetEncoding(TargetConfig::from_melodies(
      target == EvalTarget::pitch ? TargetKind::pitch : TargetKind::pitch_duration, melodies));
}

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// One melody's score: information content in bits summed over its tokens, and its note count.
struct MelodyScore {
  double bits = 0;
  size_t notes = 0;
};

MelodyScore score_melody(const SequenceModel& model, const std::vector<int>& tokens, const Melody& melody) {
  MelodyScore s;
  for (double lp : model.token_log2_probs(tokens, &melody)) s.bits -= lp;
  s.notes = melody.pitched_count();
  return s;
}

// Fills the summary figures from per-melody scores (in the order given).
void summarize_scores(const std::vector<MelodyScore>& scores, double& bits_per_note, double& event_avg,
                      size_t& melodies, size_t& notes, std::vector<double>* per_melody) {
  double sum_means = 0, sum_bits = 0;
  melodies = 0;
  notes = 0;
  for (const MelodyScore& s : scores) {
    if (s.notes == 0) continue;
    const double mean = s.bits / static_cast<double>(s.notes);
    sum_means += mean;
    sum_bits += s.bits;
    notes += s.notes;
    ++melodies;
    if (per_melody) per_melody->push_back(mean);
  }
  bits_per_note = melodies ? sum_means / static_cast<double>(melodies) : 0;
  event_avg = notes ? sum_bits / static_cast<double>(notes) : 0;
}

}  // namespace

EvalResult cross_validate(const ModelSpec& spec, const std::vector<Melody>& all, const EvalOptions& options) {
  options.validate();
  const auto t0 = Clock::now();
  // Melodies without a pitched note have nothing to score (and would give 0/0 bits per note).
  std::vector<Melody> melodies;
  for (const Melody& m : all)
    if (m.pitched_count() > 0) melodies.push_back(m);
  if (melodies.size() < static_cast<size_t>(options.folds))
    throw ConfigError(std::to_string(options.folds) + "-fold cross-validation needs at least " +
                      std::to_string(options.folds) + " melodies with notes; the corpus has " +
                      std::to_string(melodies.size()));
  require_model_family(spec.family());

  auto encoding = std::make_shared<const TargetEncoding>(target_encoding(options.target, melodies));
  const std::vector<std::vector<int>> tokens = encode_melodies(*encoding, melodies);
  const std::vector<Fold> folds = kfold_split(melodies.size(), options.folds, options.seed);

  EvalResult result;
  result.model = spec.to_string();
  result.target = options.target;
  result.encoding = encoding->spec();
  result.alphabet = encoding->vocab().size();
  result.folds.resize(folds.size());
  std::vector<MelodyScore> scores(melodies.size());

  std::atomic<size_t> next{0};
  std::atomic<size_t> done{0};
  std::mutex error_mutex;
  std::exception_ptr error;
  auto work = [&] {
    while (true) {
      const size_t f = next.fetch_add(1);
      if (f >= folds.size()) return;
      {
        std::lock_guard lock(error_mutex);
        if (error) return;
      }
      try {
        const auto tf = Clock::now();
        std::vector<Melody> train;
        train.reserve(folds[f].train.size());
        for (size_t i : folds[f].train) train.push_back(melodies[i]);
        TrainingData data;
        data.melodies = &train;
        data.encoding = encoding;
        data.corpus = "fold " + std::to_string(f + 1) + " of " + std::to_string(folds.size());
        data.seed = options.seed + f;
        ModelPtr model = train_model(spec, data);
        std::vector<MelodyScore> fold_scores;
        for (size_t i : folds[f].test) {
          scores[i] = score_melody(*model, tokens[i], melodies[i]);
          fold_scores.push_back(scores[i]);
        }
        FoldResult& fr = result.folds[f];
        summarize_scores(fold_scores, fr.bits_per_note, fr.bits_per_note_event_avg, fr.melodies, fr.notes, nullptr);
        fr.seconds = seconds_since(tf);
        const size_t d = done.fetch_add(1) + 1;
        if (options.progress) options.progress(d, folds.size());
      } catch (...) {
        std::lock_guard lock(error_mutex);
        if (!error) error = std::current_exception();
        return;
      }
    }
  };
  unsigned threads = options.threads > 0 ? static_cast<unsigned>(options.threads) : std::thread::hardware_concurrency();
  threads = std::max(1u, std::min<unsigned>(threads, static_cast<unsigned>(folds.size())));
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);

  summarize_scores(scores, result.bits_per_note, result.bits_per_note_event_avg, result.melodies, result.notes,
                   &result.melody_bits);
  result.seconds = seconds_since(t0);
  return result;
}

EvalResult evaluate(const SequenceModel& model, const std::vector<Melody>& melodies, const LogFn& log) {
  const auto t0 = Clock::now();
  EvalResult result;
  result.model = model.info().spec;
  const auto* target = dynamic_cast<const TargetEncoding*>(&model.encoding());
  result.target = target && target->config().kind == TargetKind::pitch_duration ? EvalTarget::note : EvalTarget::pitch;
  result.encoding = model.encoding().spec();
  result.alphabet = model.vocab_size();
  std::vector<MelodyScore> scores;
  std::string first_skip;
  for (const Melody& m : melodies) {
    if (m.pitched_count() == 0) continue;
    std::vector<int> tokens;
    try {
      tokens = encode_melody(model.encoding(), m);
    } catch (const EncodingError& e) {
      // The model cannot represent this melody (a pitch it never saw): reported and left out, not fatal.
      ++result.skipped;
      if (first_skip.empty()) first_skip = e.what();
      if (log) log(LogLevel::warning, std::string("not scored: ") + e.what());
      continue;
    }
    scores.push_back(score_melody(model, tokens, m));
  }
  if (scores.empty())
    throw EncodingError(result.skipped ? "no melody could be scored with this model; the first: " + first_skip
                                       : std::string("no melody with pitched notes to score"));
  summarize_scores(scores, result.bits_per_note, result.bits_per_note_event_avg, result.melodies, result.notes,
                   &result.melody_bits);
  result.seconds = seconds_since(t0);
  return result;
}

}  // namespace antiphon
