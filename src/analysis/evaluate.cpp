#include "antiphon/analysis/evaluate.h"

#include <atomic>
#include <chrono>
#include <cmath>
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
  if (max_folds < 0) throw ConfigError("--max-folds " + std::to_string(max_folds) + " is negative");
}

TargetEncoding target_encoding(EvalTarget target, const std::vector<Melody>& melodies) {
  return TargetEncoding(TargetConfig::from_melodies(
      target == EvalTarget::pitch ? TargetKind::pitch : TargetKind::pitch_duration, melodies));
}

EvalTarget natural_target(const SequenceModel& model) {
  const auto* target = dynamic_cast<const TargetEncoding*>(&model.encoding());
  return target && target->config().kind == TargetKind::pitch ? EvalTarget::pitch : EvalTarget::note;
}

MelodyScore score_melody(const SequenceModel& model, const std::vector<int>& tokens, const Melody& melody,
                         EvalTarget target) {
  MelodyScore s;
  s.notes = melody.pitched_count();
  const EvalTarget natural = natural_target(model);
  if (target == EvalTarget::note && natural == EvalTarget::pitch)
    throw ConfigError("the model predicts pitches only (encoding " + model.encoding().spec() +
                      "); it cannot be scored on notes (pitch and duration)");
  if (target == natural) {
    for (double lp : model.token_log2_probs(tokens, &melody)) s.bits -= lp;
    return s;
  }
  // Pitch alone from a model of more: each onset's pitch among the pitches it could have had there.
  size_t onsets = 0;
  const Encoding& encoding = model.encoding();
  model.predict_all(tokens, &melody, [&](size_t i, std::span<const double> probs) {
    const std::vector<int> alternatives = encoding.pitch_alternatives(tokens[i]);
    if (alternatives.empty()) return;
    double z = 0;
    for (int a : alternatives) z += probs[static_cast<size_t>(a)];
    s.bits -= std::log2(probs[static_cast<size_t>(tokens[i])] / z);
    ++onsets;
  });
  if (onsets != s.notes)
    throw EncodingError(melody_label(melody) + ": the encoding " + encoding.spec() + " shows " +
                        std::to_string(onsets) + " note onsets for " + std::to_string(s.notes) + " pitched notes");
  return s;
}

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

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
  const ModelFamily& family = require_model_family(spec.family());

  auto target = std::make_shared<const TargetEncoding>(target_encoding(options.target, melodies));
  std::shared_ptr<const Encoding> encoding = target;
  std::string encoding_spec = options.encoding;
  if (encoding_spec.empty() && family.default_encoding) encoding_spec = family.default_encoding(spec);
  if (!encoding_spec.empty() && encoding_spec != "target") encoding = make_encoding(encoding_spec);
  const std::vector<std::vector<int>> tokens = encode_melodies(*encoding, melodies);
  std::vector<Fold> folds = kfold_split(melodies.size(), options.folds, options.seed);
  if (options.max_folds > 0 && folds.size() > static_cast<size_t>(options.max_folds))
    folds.resize(static_cast<size_t>(options.max_folds));

  EvalResult result;
  result.model = spec.to_string();
  result.target = options.target;
  result.encoding = target->spec();
  result.alphabet = target->vocab().size();
  result.folds.resize(folds.size());
  std::vector<MelodyScore> scores(melodies.size());

  unsigned threads = options.threads > 0 ? static_cast<unsigned>(options.threads) : std::thread::hardware_concurrency();
  threads = std::max(1u, std::min<unsigned>(threads, static_cast<unsigned>(folds.size())));
  // Families that compute in parallel themselves (LibTorch) share the cores with the fold threads.
  const int torch_threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency() / threads));

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
        data.threads = torch_threads;
        ModelPtr model = train_model(spec, data);
        std::vector<MelodyScore> fold_scores;
        for (size_t i : folds[f].test) {
          scores[i] = score_melody(*model, tokens[i], melodies[i], options.target);
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

EvalResult evaluate(const SequenceModel& model, const std::vector<Melody>& melodies, std::optional<EvalTarget> target,
                    const LogFn& log) {
  const auto t0 = Clock::now();
  EvalResult result;
  result.model = model.info().spec;
  result.target = target.value_or(natural_target(model));
  result.encoding = model.encoding().spec();
  result.alphabet = model.vocab_size();
  std::vector<MelodyScore> scores;
  std::string first_skip;
  for (const Melody& m : melodies) {
    if (m.pitched_count() == 0) continue;
    try {
      const std::vector<int> tokens = encode_melody(model.encoding(), m);
      try {
        scores.push_back(score_melody(model, tokens, m, result.target));
      } catch (const EncodingError& e) {
        throw EncodingError(melody_label(m) + ": " + e.what());  // e.g. longer than the network reads
      }
    } catch (const EncodingError& e) {
      // The model cannot represent this melody (a pitch it never saw): reported and left out, not fatal.
      ++result.skipped;
      if (first_skip.empty()) first_skip = e.what();
      if (log) log(LogLevel::warning, std::string("not scored: ") + e.what());
      continue;
    }
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
