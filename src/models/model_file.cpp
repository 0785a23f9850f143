#include "antiphon/models/model_file.h"

#include <xxhash.h>

#include <bit>
#include <cstring>
#include <nlohmann/json.hpp>

#include "antiphon/core/text.h"
#include "antiphon/models/registry.h"

namespace antiphon {

static_assert(std::endian::native == std::endian::little, "model files are little-endian; add byte swapping");

namespace {

constexpr std::string_view kMagic = "ANTIPHON-MODEL\n";
// Bounds on what a header may declare, so a hostile file cannot make the loader allocate without limit.
constexpr uint64_t kMaxHeaderBytes = 64ull << 20;

template <typename T>
void put(std::string& out, T v) {
  char buf[sizeof(T)];
  std::memcpy(buf, &v, sizeof(T));
  out.append(buf, sizeof(T));
}

template <typename T>
void put_array(std::string& out, std::span<const T> v) {
  put<uint64_t>(out, v.size());
  if (!v.empty()) out.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

}  // namespace

// ModelWriter -----------------------------------------------------------------------------------------------

void ModelWriter::u8(uint8_t v) { put(bytes_, v); }
void ModelWriter::u32(uint32_t v) { put(bytes_, v); }
void ModelWriter::i32(int32_t v) { put(bytes_, v); }
void ModelWriter::u64(uint64_t v) { put(bytes_, v); }
void ModelWriter::f64(double v) { put(bytes_, v); }
void ModelWriter::str(std::string_view s) {
  put<uint64_t>(bytes_, s.size());
  bytes_.append(s);
}
void ModelWriter::i32s(std::span<const int32_t> v) { put_array(bytes_, v); }
void ModelWriter::u32s(std::span<const uint32_t> v) { put_array(bytes_, v); }
void ModelWriter::f64s(std::span<const double> v) { put_array(bytes_, v); }
void ModelWriter::f32s(std::span<const float> v) { put_array(bytes_, v); }

// ModelReader -----------------------------------------------------------------------------------------------

void ModelReader::fail(const std::string& message) const {
  throw ModelFileError(file_ + ": payload offset " + std::to_string(pos_) + ": " + message);
}

void ModelReader::expect_end() const {
  if (!at_end()) fail(std::to_string(bytes_.size() - pos_) + " bytes left over after the model's data (corrupt file)");
}

void ModelReader::need(size_t n, const char* what) {
  if (n > bytes_.size() - pos_)
    fail(std::string("truncated while reading ") + what + " (" + std::to_string(n) + " bytes needed, " +
         std::to_string(bytes_.size() - pos_) + " left)");
}

namespace {
template <typename T>
T take(std::string_view bytes, size_t& pos) {
  T v;
  std::memcpy(&v, bytes.data() + pos, sizeof(T));
  pos += sizeof(T);
  return v;
}
}  // namespace

uint8_t ModelReader::u8(const char* what) {
  need(1, what);
  return take<uint8_t>(bytes_, pos_);
}
uint32_t ModelReader::u32(const char* what) {
  need(4, what);
  return take<uint32_t>(bytes_, pos_);
}
int32_t ModelReader::i32(const char* what) {
  need(4, what);
  return take<int32_t>(bytes_, pos_);
}
uint64_t ModelReader::u64(const char* what) {
  need(8, what);
  return take<uint64_t>(bytes_, pos_);
}
uint32_t ModelReader::u32_in(const char* what, uint32_t min, uint32_t max) {
  const uint32_t v = u32(what);
  if (v < min || v > max)
    fail(std::string(what) + " " + std::to_string(v) + " is outside " + std::to_string(min) + ".." + std::to_string(max));
  return v;
}

void ModelReader::version(const char* what, uint32_t expected) {
  const uint32_t v = u32(what);
  if (v != expected) fail(std::string(what) + " " + std::to_string(v) + " is not " + std::to_string(expected));
}

double ModelReader::f64(const char* what) {
  need(8, what);
  return take<double>(bytes_, pos_);
}
std::string ModelReader::str(const char* what) {
  uint64_t n = u64(what);
  if (n > bytes_.size() - pos_)
    fail(std::string(what) + ": length " + std::to_string(n) + " is larger than the rest of the file");
  std::string s(bytes_.substr(pos_, n));
  pos_ += n;
  return s;
}

namespace {
template <typename T>
std::vector<T> take_array(ModelReader& r, std::string_view bytes, size_t& pos, const char* what) {
  uint64_t n = r.u64(what);
  if (n > (bytes.size() - pos) / sizeof(T))
    r.fail(std::string(what) + ": count " + std::to_string(n) + " is larger than the rest of the file");
  std::vector<T> v(n);
  if (n) std::memcpy(v.data(), bytes.data() + pos, n * sizeof(T));
  pos += n * sizeof(T);
  return v;
}
}  // namespace

std::vector<int32_t> ModelReader::i32s(const char* what) { return take_array<int32_t>(*this, bytes_, pos_, what); }
std::vector<uint32_t> ModelReader::u32s(const char* what) { return take_array<uint32_t>(*this, bytes_, pos_, what); }
std::vector<double> ModelReader::f64s(const char* what) { return take_array<double>(*this, bytes_, pos_, what); }
std::vector<float> ModelReader::f32s(const char* what) { return take_array<float>(*this, bytes_, pos_, what); }

// The file --------------------------------------------------------------------------------------------------

namespace {

std::string header_json(const SequenceModel& model) {
  const ModelInfo& info = model.info();
  nlohmann::json j;
  j["family"] = info.family;
  j["spec"] = info.spec;
  j["encoding"] = info.encoding;
  j["corpus"] = info.corpus;
  j["corpus_fingerprint"] = info.corpus_fingerprint;
  j["training_melodies"] = info.training_melodies;
  j["training_tokens"] = info.training_tokens;
  nlohmann::json config = nlohmann::json::array();
  for (const auto& [k, v] : model.config()) config.push_back({k, v});
  j["config"] = config;
  j["vocab"] = model.encoding().vocab().tokens();
  return j.dump();
}

struct Parsed {
  ModelHeader header;
  std::string_view payload;
};

[[noreturn]] void corrupt(const std::string& path, const std::string& message) {
  throw ModelFileError(path + ": " + message);
}

Parsed parse_file(std::string_view bytes, const std::string& path) {
  if (bytes.size() < kMagic.size() || bytes.substr(0, kMagic.size()) != kMagic)
    corrupt(path, "not an Antiphon model file (the file does not start with \"ANTIPHON-MODEL\")");
  const size_t fixed = kMagic.size() + 4 + 8 + 8 + 8;
  if (bytes.size() < fixed)
    corrupt(path, "truncated: " + std::to_string(bytes.size()) + " bytes, less than the smallest model file");
  // Checksum first: any truncation or flipped bit is caught here, before a length is trusted.
  uint64_t stored;
  std::memcpy(&stored, bytes.data() + bytes.size() - 8, 8);
  const uint64_t actual = XXH64(bytes.data(), bytes.size() - 8, 0);
  size_t pos = kMagic.size();
  uint32_t version;
  std::memcpy(&version, bytes.data() + pos, 4);
  pos += 4;
  if (stored != actual) {
    if (version > kModelFormatVersion && version < 1000)
      corrupt(path, "model format version " + std::to_string(version) + " is newer than this program reads (" +
                        std::to_string(kModelFormatVersion) + ")");
    corrupt(path, "checksum mismatch: the file is truncated or corrupt");
  }
  if (version == 0 || version > kModelFormatVersion)
    corrupt(path, "model format version " + std::to_string(version) + " is not one this program reads (1.." +
                      std::to_string(kModelFormatVersion) + ")");
  const size_t body_end = bytes.size() - 8;
  uint64_t header_len;
  std::memcpy(&header_len, bytes.data() + pos, 8);
  pos += 8;
  if (header_len > kMaxHeaderBytes || header_len > body_end - pos - 8)
    corrupt(path, "header length " + std::to_string(header_len) + " is larger than the file");
  std::string_view header_text = bytes.substr(pos, header_len);
  pos += header_len;
  uint64_t payload_len;
  std::memcpy(&payload_len, bytes.data() + pos, 8);
  pos += 8;
  if (payload_len != body_end - pos)
    corrupt(path, "payload length " + std::to_string(payload_len) + " does not match the file (" +
                      std::to_string(body_end - pos) + " bytes)");
  Parsed out;
  out.payload = bytes.substr(pos, payload_len);
  out.header.format_version = version;
  try {
    nlohmann::json j = nlohmann::json::parse(header_text);
    ModelInfo& info = out.header.info;
    info.family = j.at("family").get<std::string>();
    info.spec = j.at("spec").get<std::string>();
    info.encoding = j.at("encoding").get<std::string>();
    info.corpus = j.at("corpus").get<std::string>();
    info.corpus_fingerprint = j.at("corpus_fingerprint").get<std::string>();
    info.training_melodies = j.at("training_melodies").get<size_t>();
    info.training_tokens = j.at("training_tokens").get<size_t>();
    for (const auto& kv : j.at("config")) out.header.config.emplace_back(kv.at(0).get<std::string>(), kv.at(1).get<std::string>());
    out.header.vocab = j.at("vocab").get<std::vector<std::string>>();
  } catch (const nlohmann::json::exception& e) {
    corrupt(path, std::string("bad header: ") + e.what());
  }
  return out;
}

}  // namespace

void save_model(const SequenceModel& model, const std::string& path) {
  ModelWriter payload;
  model.save_payload(payload);
  const std::string header = header_json(model);
  std::string out;
  out.reserve(kMagic.size() + 28 + header.size() + payload.bytes().size());
  out.append(kMagic);
  put<uint32_t>(out, kModelFormatVersion);
  put<uint64_t>(out, header.size());
  out.append(header);
  put<uint64_t>(out, payload.bytes().size());
  out.append(payload.bytes());
  put<uint64_t>(out, XXH64(out.data(), out.size(), 0));
  write_file_atomic(path, out);
}

ModelHeader read_model_header(const std::string& path) {
  std::string bytes;
  try {
    bytes = read_file_bytes(path);
  } catch (const IoError& e) {
    throw ModelFileError(e.what());
  }
  return parse_file(bytes, path).header;
}

ModelPtr load_model_bytes(std::string_view bytes, const std::string& path) {
  Parsed parsed = parse_file(bytes, path);
  const ModelHeader& h = parsed.header;
  const ModelFamily* family = find_model_family(h.info.family);
  if (!family) corrupt(path, "unknown model family '" + h.info.family + "' (this program knows: " + [] {
                       std::string s;
                       for (const auto& f : model_families()) s += (s.empty() ? "" : ", ") + f.name;
                       return s;
                     }() + ")");
  std::shared_ptr<const Encoding> encoding;
  try {
    encoding = make_encoding(h.info.encoding);
  } catch (const Error& e) {
    corrupt(path, "encoding '" + h.info.encoding + "': " + e.what());
  }
  if (encoding->vocab().tokens() != h.vocab)
    corrupt(path, "the vocabulary stored in the file (" + std::to_string(h.vocab.size()) +
                      " tokens) differs from the one of encoding '" + h.info.encoding + "' (" +
                      std::to_string(encoding->vocab().size()) + " tokens): a model from another encoding version");
  ModelReader reader(parsed.payload, path);
  ModelPtr model = family->load(h, encoding, reader);
  reader.expect_end();
  return model;
}

ModelPtr load_model(const std::string& path) {
  std::string bytes;
  try {
    bytes = read_file_bytes(path);
  } catch (const IoError& e) {
    throw ModelFileError(e.what());
  }
  return load_model_bytes(bytes, path);
}

}  // namespace antiphon
