// antiphon generate / infill / respond end to end: models trained with `antiphon train` on a small corpus
// written here (C major, 4/4, with rests), outputs read back from the files written, the JSON's figures
// checked against each other, and the errors a user meets first.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "antiphon/core/text.h"
#include "antiphon/core/transform.h"
#include "antiphon/formats/format.h"
#include "cli_run.h"

namespace fs = std::filesystem;
using antiphon::Melody;
using antiphon::Note;
using antiphon::Rational;
using antiphon::testing::CliRun;
using nlohmann::json;

namespace {

// Twelve tunes in C major, 4/4, no pickup, rests in several; no note crosses a bar line.
constexpr const char* kCorpus = R"(X:1
T:One
M:4/4
L:1/8
K:C
C2 E2 G2 E2 | F2 A2 G4 | E2 G2 c2 G2 | F2 D2 C2 z2 |]

X:2
T:Two
M:4/4
L:1/8
K:C
E D C D E2 E2 | D2 D2 E2 G2 | E D C D E2 E2 | D2 D2 C4 |]

X:3
T:Three
M:4/4
L:1/8
K:C
G2 E2 z2 C2 | D E F G A2 G2 | c2 B2 A2 G2 | F2 E2 D2 C2 |]

X:4
T:Four
M:4/4
L:1/8
K:C
C D E F G2 G2 | A2 A2 G2 z2 | F2 F2 E2 E2 | D2 D2 C2 z2 |]

X:5
T:Five
M:4/4
L:1/8
K:C
c2 G2 A2 E2 | F2 C2 F2 G2 | c B A G F E D C | E2 D2 C4 |]

X:6
T:Six
M:4/4
L:1/8
K:C
E2 E2 F2 G2 | G2 F2 E2 D2 | C2 C2 D2 E2 | E3 D D4 |]

X:7
T:Seven
M:4/4
L:1/8
K:C
C E G c G E C2 | D F A c A F D2 | E G c G E2 z2 | D2 G2 C4 |]

X:8
T:Eight
M:4/4
L:1/8
K:C
G4 E2 C2 | D4 F2 D2 | c4 G4 | E2 D2 C4 |]

X:9
T:Nine
M:4/4
L:1/8
K:C
z2 C2 D2 E2 | F2 E2 D2 C2 | z2 E2 F2 G2 | A2 G2 C4 |]

X:10
T:Ten
M:4/4
L:1/8
K:C
C2 C2 G2 G2 | A2 A2 G4 | F2 F2 E2 E2 | D2 D2 C4 |]

X:11
T:Eleven
M:4/4
L:1/8
K:C
E F G A G2 E2 | D E F G F2 D2 | C D E F E2 C2 | D2 B2 c4 |]

X:12
T:Twelve
M:4/4
L:1/8
K:C
G2 A2 B2 c2 | B2 A2 G2 z2 | F2 E2 D2 E2 | C6 z2 |]
)";

// One scratch folder per test (tests run in parallel, each in its own process), with the corpus and models.
class GenerateCli : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    dir_ = antiphon::testing::cli_temp_dir("antiphon_generate_cli_" + name);
    antiphon::write_file_atomic(dir_ / "tunes.abc", kCorpus);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  CliRun run(const std::string& args) const { return antiphon::testing::run_cli(args, dir_); }

  // A trained model: `markov` (order 2 on the 16th-note grid: rhythm and pitch) or `ppm` (pitch target). The
  // grid spans one octave around the corpus: the exact lattice grows with the square of the vocabulary.
  std::string model(const std::string& which) {
    const std::string file = path(which + ".model");
    if (fs::exists(file)) return file;
    const std::string spec = which == "markov" ? "markov:order=2 --encoding grid:steps=4,min=57,max=74" : "ppm";
    const CliRun t = run("train --model " + spec + " --corpus " + path("tunes.abc") + " --out " + file);
    EXPECT_EQ(t.exit_code, 0) << t.err;
    return file;
  }

  json run_json(const std::string& args) {
    const CliRun r = run(args + " --json");
    EXPECT_EQ(r.exit_code, 0) << args << "\n" << r.err;
    try {
      return json::parse(r.out);
    } catch (const json::exception& e) {
      ADD_FAILURE() << "not JSON: " << e.what() << "\n" << r.out;
      return json::object();
    }
  }

  fs::path dir_;
};

Melody read_back(const std::string& file) {
  antiphon::ReadResult r = antiphon::read_file(file);
  EXPECT_EQ(r.melodies.size(), 1u) << file;
  return r.melodies.empty() ? Melody{} : r.melodies.front();
}

std::optional<int> midi_of(const Note& n) { return n.pitch ? std::optional<int>(n.pitch->midi) : std::nullopt; }

// The note or rest sounding at time t (nullptr past the end).
const Note* note_at(const Melody& m, const Rational& t) {
  for (const Note& n : m.notes)
    if (n.onset <= t && t < n.end()) return &n;
  return nullptr;
}

bool same_notes(const Note& a, const Note& b) {
  return a.onset == b.onset && a.duration == b.duration && midi_of(a) == midi_of(b);
}

Rational rational(const json& j) { return Rational::parse(j.get<std::string>()); }

// Every field the JSON promises, with finite numbers that agree with each other.
void expect_generation_fields(const json& g) {
  for (const char* key : {"seed", "method", "satisfaction_probability", "satisfaction_exact", "log2_probability",
                          "bits", "context_log2_probability", "region", "remarks", "notes", "file"})
    EXPECT_TRUE(g.contains(key)) << key << " missing in " << g.dump();
  ASSERT_TRUE(g["log2_probability"].is_number()) << g.dump();
  ASSERT_TRUE(g["bits"].is_number());
  const double log2p = g["log2_probability"].get<double>();
  EXPECT_TRUE(std::isfinite(log2p));
  EXPECT_LE(log2p, 0.0);
  EXPECT_DOUBLE_EQ(g["bits"].get<double>(), log2p == 0 ? 0.0 : -log2p);
  EXPECT_TRUE(g["remarks"].is_array());
  ASSERT_FALSE(g["notes"].empty());
  double sum = 0;
  Rational expected_onset = rational(g["region"]["begin"]);
  for (const json& n : g["notes"]) {
    for (const char* key : {"onset", "duration", "pitch", "name", "probability", "log2_probability",
                            "information_content", "tokens"})
      EXPECT_TRUE(n.contains(key)) << key << " missing in " << n.dump();
    // Notes and rests back to back over the region.
    EXPECT_EQ(rational(n["onset"]), expected_onset) << n.dump();
    expected_onset += rational(n["duration"]);
    const double lp = n["log2_probability"].get<double>();
    EXPECT_TRUE(std::isfinite(lp));
    EXPECT_NEAR(n["probability"].get<double>(), std::exp2(lp), 1e-12);
    EXPECT_GT(n["probability"].get<double>(), 0.0);
    EXPECT_LE(n["probability"].get<double>(), 1.0);
    EXPECT_DOUBLE_EQ(n["information_content"].get<double>(), lp == 0 ? 0.0 : -lp);
    if (n["pitch"].is_null())
      EXPECT_EQ(n["name"], "r");
    else
      EXPECT_EQ(antiphon::Pitch::parse(n["name"].get<std::string>()).midi, n["pitch"].get<int>());
    sum += lp;
  }
  EXPECT_EQ(expected_onset, rational(g["region"]["end"]));
  // The region's probability is the product of its notes' probabilities.
  EXPECT_NEAR(sum, log2p, 1e-9);
}

}  // namespace

TEST_F(GenerateCli, json_has_every_field_and_the_region_spans_the_bars) {
  const std::string out = path("g.mid");
  const json j = run_json("generate --model " + model("markov") + " --primer \"C4 D4 E4 F4\" --bars 2 --no-stop --seed 3 --out " + out);
  EXPECT_EQ(j["model"]["file"], model("markov"));
  EXPECT_EQ(j["model"]["family"], "markov");
  EXPECT_EQ(j["model"]["spec"].get<std::string>().substr(0, 14), "markov:order=2");
  EXPECT_EQ(j["model"]["encoding"].get<std::string>().substr(0, 12), "grid:steps=4");
  EXPECT_EQ(j["request"]["seed"], 3);
  EXPECT_EQ(j["request"]["length"]["bars"], 2);
  EXPECT_EQ(j["request"]["stop_at_end"], false);
  EXPECT_EQ(j["request"]["top_p"], 1.0);
  EXPECT_TRUE(j["request"]["constraints"]["describe"].is_string());
  ASSERT_EQ(j["generations"].size(), 1u);
  const json& g = j["generations"][0];
  expect_generation_fields(g);
  EXPECT_EQ(g["seed"], 3);
  EXPECT_EQ(g["method"], "free");
  EXPECT_EQ(g["file"], out);
  // The primer is 4 quarters in 4/4 (a note list's default): two bars are 8 quarters after it.
  EXPECT_EQ(g["region"]["begin"], "4");
  EXPECT_EQ(g["region"]["end"], "12");
  EXPECT_EQ(read_back(out).length(), Rational(12));

  // A pitch-only model after a primer in 6/8: two bars of 3 quarters, in the primer's last bar's rhythm.
  const std::string six_eight = path("six_eight.abc");
  antiphon::write_file_atomic(six_eight, "X:1\nT:Jig\nM:6/8\nL:1/8\nK:C\nC D E F E D | C3 E3 |]\n");
  const json p = run_json("generate --model " + model("ppm") + " --primer " + six_eight + " --bars 2 --seed 1");
  const json& pg = p["generations"][0];
  expect_generation_fields(pg);
  EXPECT_TRUE(pg["file"].is_null());
  EXPECT_EQ(pg["region"]["begin"], "6");
  EXPECT_EQ(pg["region"]["end"], "12");
  EXPECT_EQ(pg["notes"].size(), 4u) << pg.dump();  // C3 E3 twice: dotted quarters
  for (const json& n : pg["notes"]) EXPECT_EQ(n["duration"], "3/2");
}

TEST_F(GenerateCli, the_same_seed_gives_the_same_file_and_another_seed_another_melody) {
  const std::string base = "generate --model " + model("markov") + " --primer \"C4 E4 G4 E4\" --bars 4 --no-stop";
  ASSERT_EQ(run(base + " --seed 5 --out " + path("a.mid")).exit_code, 0);
  ASSERT_EQ(run(base + " --seed 5 --out " + path("b.mid")).exit_code, 0);
  const CliRun c = run(base + " --seed 6 --out " + path("c.mid"));
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_NE(c.out.find("wrote " + path("c.mid")), std::string::npos) << c.out;
  EXPECT_EQ(antiphon::read_file_bytes(path("a.mid")), antiphon::read_file_bytes(path("b.mid")));
  const Melody a = read_back(path("a.mid")), other = read_back(path("c.mid"));
  EXPECT_NE(a.notes, other.notes);
  // The title records the model and the seed (kern keeps it; MIDI reads back the file's name).
  // A note list is in 4/4 with the key its notes suggest, and the file says so.
  const json j = run_json(base + " --seed 5 --out " + path("a.krn"));
  EXPECT_EQ(j["request"]["meter"], "4/4");
  const Melody k = read_back(path("a.krn"));
  EXPECT_EQ(k.title, "antiphon generate (model markov.model, seed 5)");
  EXPECT_EQ(k.meter().name(), "4/4");
  Melody primer;
  for (int midi : {60, 64, 67, 64}) primer.append(antiphon::Pitch::from_midi(midi), Rational(1));
  const antiphon::Key estimated = antiphon::estimate_key(primer);
  EXPECT_EQ(j["request"]["key"], estimated.name());
  // An estimated key is written as its signature only (the reader estimates the mode again).
  EXPECT_EQ(k.key().fifths, estimated.fifths);
  ASSERT_EQ(k.notes.size(), a.notes.size());
  for (size_t i = 0; i < k.notes.size(); ++i) EXPECT_TRUE(same_notes(k.notes[i], a.notes[i])) << i;
}

TEST_F(GenerateCli, count_writes_numbered_files_that_keep_the_primer) {
  const std::string primer = path("tunes.abc");
  const json j = run_json("generate --model " + model("markov") + " --primer " + primer +
                          " --index 2 --bars 1 --no-stop --count 3 --seed 7 --out " + path("out.krn"));
  ASSERT_EQ(j["generations"].size(), 3u);
  EXPECT_FALSE(fs::exists(path("out.krn")));
  const Melody given = antiphon::read_file(primer).melodies.at(2);
  for (int i = 1; i <= 3; ++i) {
    const std::string file = path("out-" + std::to_string(i) + ".krn");
    const json& g = j["generations"][static_cast<size_t>(i - 1)];
    EXPECT_EQ(g["file"], file);
    EXPECT_EQ(g["seed"], 6 + i);
    const Melody m = read_back(file);
    EXPECT_EQ(m.length(), given.length() + Rational(4));
    ASSERT_GE(m.notes.size(), given.notes.size());
    for (size_t k = 0; k < given.notes.size(); ++k)
      EXPECT_TRUE(same_notes(m.notes[k], given.notes[k])) << file << " note " << k;
    EXPECT_EQ(m.meter(), given.meter());
    EXPECT_EQ(m.key().fifths, given.key().fifths);
  }
}

TEST_F(GenerateCli, constraints_fix_a_pitch_and_a_rest_in_the_written_midi) {
  const std::string constraints = path("c.json");
  // B4 for a quarter, a quarter rest, then some note, over the first three quarters of the region.
  antiphon::write_file_atomic(constraints, R"({"steps": "B4 - - - r - - - * . . ."})");
  const std::string out = path("c.mid");
  const json j = run_json("generate --model " + model("markov") + " --primer \"C4 D4 E4 F4\" --bars 1 --no-stop --constraints " +
                          constraints + " --out " + out);
  const json& g = j["generations"][0];
  expect_generation_fields(g);
  EXPECT_EQ(g["method"], "exact");
  ASSERT_TRUE(g["satisfaction_probability"].is_number());
  EXPECT_GT(g["satisfaction_probability"].get<double>(), 0.0);
  EXPECT_LT(g["satisfaction_probability"].get<double>(), 1.0);
  EXPECT_NE(j["request"]["constraints"]["describe"].get<std::string>().find("B4"), std::string::npos);
  EXPECT_EQ(j["request"]["constraints"]["file"], constraints);

  const Melody m = read_back(out);
  const Note* b4 = note_at(m, Rational(4));
  ASSERT_NE(b4, nullptr);
  EXPECT_EQ(b4->onset, Rational(4));
  EXPECT_EQ(midi_of(*b4), 71);
  EXPECT_EQ(b4->duration, Rational(1));
  const Note* rest = note_at(m, Rational(5));
  ASSERT_NE(rest, nullptr);
  EXPECT_TRUE(rest->is_rest());
  EXPECT_EQ(rest->onset, Rational(5));
  EXPECT_EQ(rest->duration, Rational(1));
  const Note* next = note_at(m, Rational(6));
  ASSERT_NE(next, nullptr);
  EXPECT_EQ(next->onset, Rational(6));
  EXPECT_FALSE(next->is_rest());
}

TEST_F(GenerateCli, infill_keeps_the_notes_outside_the_region) {
  const std::string melody = path("tunes.abc");  // tune 1: C2 E2 G2 E2 | F2 A2 G4 | E2 G2 c2 G2 | F2 D2 C2 z2
  const Melody given = antiphon::read_file(melody).melodies.at(0);
  for (const std::string& model_name : {std::string("markov"), std::string("ppm")}) {
    const std::string out = path("infill-" + model_name + ".krn");
    const json j = run_json("infill --model " + model(model_name) + " --melody " + melody +
                            " --from bar:2 --to 8 --seed 2 --out " + out);
    const json& g = j["generations"][0];
    expect_generation_fields(g);
    EXPECT_EQ(g["region"]["begin"], "4");
    EXPECT_EQ(g["region"]["end"], "8");
    EXPECT_EQ(j["request"]["from"]["quarters"], "4");
    EXPECT_EQ(g["method"], "exact") << "finite-state models condition on the right-hand side exactly";
    EXPECT_TRUE(g["context_log2_probability"].is_number());
    EXPECT_LT(g["context_log2_probability"].get<double>(), 0.0);
    const Melody m = read_back(out);
    EXPECT_EQ(m.length(), given.length());
    for (const Note& n : given.notes) {
      if (n.end() <= Rational(4) || n.onset >= Rational(8)) {
        const Note* got = note_at(m, n.onset);
        ASSERT_NE(got, nullptr) << model_name << " onset " << n.onset.to_string();
        EXPECT_TRUE(same_notes(*got, n)) << model_name << " onset " << n.onset.to_string();
      }
    }
    if (model_name == "ppm") {
      // A pitch-only model keeps the region's rhythm: F2 A2 G4.
      ASSERT_EQ(g["notes"].size(), 3u) << g.dump();
      EXPECT_EQ(g["notes"][2]["duration"], "2");
    }
  }
}

TEST_F(GenerateCli, respond_starts_on_the_next_beat_and_fills_the_bars_in_key) {
  const std::string out = path("answer.abc");
  // The call ends half a beat into beat 3: the answer starts on beat 4 (quarter 3).
  const json j = run_json("respond --model " + model("markov") + " --call \"C4 D4 E4:1/2\" --bars 2 --seed 4 --out " + out);
  const json& g = j["generations"][0];
  expect_generation_fields(g);
  EXPECT_EQ(g["region"]["begin"], "3");
  EXPECT_EQ(g["region"]["end"], "11");
  EXPECT_EQ(j["request"]["in_key"], true);
  EXPECT_EQ(j["request"]["key"], "C major");
  for (const json& n : g["notes"])
    if (!n["pitch"].is_null()) {
      const int pc = n["pitch"].get<int>() % 12;
      EXPECT_TRUE(pc == 0 || pc == 2 || pc == 4 || pc == 5 || pc == 7 || pc == 9 || pc == 11) << n.dump();
    }
  const Melody m = read_back(out);
  EXPECT_EQ(m.length(), Rational(11));
  ASSERT_GE(m.notes.size(), 4u);
  EXPECT_EQ(midi_of(m.notes[0]), 60);
  EXPECT_EQ(m.notes[2].duration, Rational(1, 2));
  const Note* gap = note_at(m, Rational(5, 2));
  ASSERT_NE(gap, nullptr);
  EXPECT_TRUE(gap->is_rest()) << "the half beat between call and answer is silent";

  // In a flat key the answer is spelled with flats: the fixed first note is Bb4, not A#4.
  antiphon::write_file_atomic(path("bb.json"), R"({"steps": "A#4 - - -"})");
  const json f = run_json("respond --model " + model("markov") + " --call \"F4 A4 C5 Bb4 A4 G4 F4:2\" --bars 1 --constraints " +
                          path("bb.json") + " --out " + path("bb.krn"));
  EXPECT_EQ(f["request"]["key"], "F major");
  EXPECT_EQ(f["generations"][0]["notes"][0]["name"], "Bb4");
  const Melody bb_melody = read_back(path("bb.krn"));
  const Note* bb = note_at(bb_melody, Rational(8));
  ASSERT_NE(bb, nullptr);
  ASSERT_TRUE(bb->pitch.has_value());
  EXPECT_EQ(bb->pitch->name(), "Bb4");

  // Answer mode: the call's rhythm (quarter, quarter, eighth) repeated, closing on the tonic.
  const json a = run_json("respond --model " + model("markov") + " --call \"C4 D4 E4:1/2\" --bars 1 --mode answer --seed 4");
  const json& ag = a["generations"][0];
  expect_generation_fields(ag);
  int last_pitch = -1;
  for (const json& n : ag["notes"])
    if (!n["pitch"].is_null()) last_pitch = n["pitch"].get<int>();
  EXPECT_EQ(last_pitch % 12, 0) << ag.dump();
  ASSERT_GE(ag["notes"].size(), 2u);
  EXPECT_EQ(ag["notes"][0]["duration"], "1");
  EXPECT_EQ(ag["notes"][0]["onset"], "3");
}

TEST_F(GenerateCli, errors_name_the_problem_and_exit_with_the_right_code) {
  // A primer note the pitch model never saw.
  CliRun r = run("generate --model " + model("ppm") + " --primer \"C4 F#4 G4\" --bars 1 --out " + path("x.mid"));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("'C4 F#4 G4': pitch cannot encode"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("F#4, onset 1"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(path("x.mid")));

  // Constraints no note of the model's alphabet can meet.
  antiphon::write_file_atomic(path("low.json"), R"({"range": ["C2", "B2"]})");
  r = run("generate --model " + model("ppm") + " --primer \"C4 E4\" --bars 1 --constraints " + path("low.json") +
          " --out " + path("x.mid"));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("error: the constraints cannot be met: "), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(path("x.mid")));

  // Option values out of range: bad usage.
  r = run("generate --model " + model("markov") + " --bars 1 --top-p 1.5 --out " + path("x.mid"));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--top-p"), std::string::npos) << r.err;
  r = run("generate --model " + model("markov") + " --bars 1 --top-p 0 --out " + path("x.mid"));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  r = run("generate --model " + model("markov") + " --out " + path("x.mid"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("exactly one of --bars, --steps, --quarters"), std::string::npos) << r.err;
  r = run("generate --model " + model("markov") + " --bars 1 --out " + path("x.wav"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("x.wav"), std::string::npos) << r.err;

  // Malformed constraints JSON: the file and the line.
  antiphon::write_file_atomic(path("bad.json"), "{\"steps\": \"C4 - - -\",\n  \"range\": [C4, G5]}\n");
  r = run("generate --model " + model("markov") + " --bars 1 --constraints " + path("bad.json") + " --out " + path("x.mid"));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find(path("bad.json") + ":2:"), std::string::npos) << r.err;
  // A well-formed file with a bad value is bad input too, named.
  antiphon::write_file_atomic(path("pitch.json"), R"({"steps": "H4"})");
  r = run("generate --model " + model("markov") + " --bars 1 --constraints " + path("pitch.json") + " --out " + path("x.mid"));
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("H4"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(path("x.mid")));

  // infill's span must fall on note boundaries and inside the melody.
  r = run("infill --model " + model("markov") + " --melody \"C4 D4:2 E4\" --from 2 --to 4 --json");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("falls inside note 2"), std::string::npos) << r.err;
  r = run("infill --model " + model("markov") + " --melody \"C4 D4 E4\" --from bar:x --to 2 --json");
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("bar:x"), std::string::npos) << r.err;
}

TEST_F(GenerateCli, bench_respond_smoke_run_prints_ratios_to_the_goal) {
  // PPM only, to stay fast.
  const CliRun r = run("bench respond --corpus " + path("tunes.abc") + " --family ppm --repeats 3 --calls 2");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const size_t at = r.out.find("\nppm ");
  ASSERT_NE(at, std::string::npos) << r.out;
  EXPECT_NE(r.out.find("in key", at), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("\nmarkov "), std::string::npos) << "--family picks the rows\n" << r.out;
  EXPECT_NE(r.out.find("p50/goal"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("free (any key)"), std::string::npos) << r.out;
  // In key, a finite-state model samples the exact conditional: by rejection, or through its lattice.
  EXPECT_TRUE(r.out.find(" exact") != std::string::npos || r.out.find(" rejection") != std::string::npos) << r.out;
}
