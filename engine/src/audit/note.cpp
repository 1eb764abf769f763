// Signed notes, checkpoints and cosignatures (C2SP signed-note, tlog-checkpoint,
// tlog-cosignature): see vigil/note.h.
#include "vigil/note.h"

#include <openssl/evp.h>

#include <charconv>

namespace vigil::note {
namespace {

constexpr std::string_view kDash = "\xE2\x80\x94 ";  // U+2014 and a space
constexpr size_t kMaxNote = 1 << 20;
constexpr size_t kMaxSignatures = 100;
constexpr unsigned char kEd25519 = 0x01;
constexpr unsigned char kCosignatureV1 = 0x04;

std::string keyHash(std::string_view name, unsigned char type, std::string_view raw) {
  std::string material(name);
  material += '\n';
  material += static_cast<char>(type);
  material.append(raw);
  const merkle::Hash h = merkle::sha256(material);
  return std::string(reinterpret_cast<const char*>(h.data()), 4);
}

std::string cosignedMessage(std::string_view text, uint64_t timestamp) {
  return "cosignature/v1\ntime " + std::to_string(timestamp) + "\n" + std::string(text);
}

bool decimal(std::string_view s, uint64_t* out) {
  if (s.empty() || (s.size() > 1 && s[0] == '0')) return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && end == s.data() + s.size();
}

}  // namespace

std::string base64(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(bytes.data()), static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::optional<std::string> unbase64(std::string_view text) {
  if (text.empty() || text.size() % 4 != 0 || text.size() > kMaxNote) return std::nullopt;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
    const bool pad = c == '=' && i + 2 >= text.size() && (i + 1 == text.size() || text[i + 1] == '=');
    if (!alnum && !pad) return std::nullopt;
  }
  std::string out(text.size() / 4 * 3, '\0');
  const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  size_t pads = text.back() == '=' ? (text[text.size() - 2] == '=' ? 2 : 1) : 0;
  out.resize(static_cast<size_t>(n) - pads);
  if (base64(out) != text) return std::nullopt;  // canonical form only
  return out;
}

bool validName(std::string_view name) {
  if (name.empty() || name.size() > 256) return false;
  for (char c : name) {
    if (c <= 0x20 || c >= 0x7f || c == '+') return false;
  }
  return true;
}

std::optional<Note> parse(std::string_view note) {
  if (note.size() > kMaxNote || note.empty() || note.back() != '\n') return std::nullopt;
  const size_t split = note.find("\n\n");
  if (split == std::string_view::npos || split == 0) return std::nullopt;
  Note n;
  n.text = std::string(note.substr(0, split + 1));
  for (char c : n.text) {
    if (c != '\n' && (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)) return std::nullopt;
  }
  std::string_view rest = note.substr(split + 2);
  while (!rest.empty()) {
    const size_t eol = rest.find('\n');
    if (eol == std::string_view::npos || n.signatures.size() >= kMaxSignatures) return std::nullopt;
    std::string_view line = rest.substr(0, eol);
    rest.remove_prefix(eol + 1);
    if (line.substr(0, kDash.size()) != kDash) return std::nullopt;
    line.remove_prefix(kDash.size());
    const size_t space = line.find(' ');
    if (space == std::string_view::npos) return std::nullopt;
    Signature s;
    s.name = std::string(line.substr(0, space));
    auto raw = unbase64(line.substr(space + 1));
    if (!validName(s.name) || !raw || raw->size() < 5) return std::nullopt;
    s.keyHash = raw->substr(0, 4);
    s.bytes = raw->substr(4);
    n.signatures.push_back(std::move(s));
  }
  if (n.signatures.empty()) return std::nullopt;
  return n;
}

std::string format(const Note& n) {
  std::string out = n.text + "\n";
  for (const auto& s : n.signatures) out += std::string(kDash) + s.name + " " + base64(s.keyHash + s.bytes) + "\n";
  return out;
}

std::string logKeyHash(std::string_view name, std::string_view rawPublicKey) { return keyHash(name, kEd25519, rawPublicKey); }

std::string cosignatureKeyHash(std::string_view name, std::string_view rawPublicKey) {
  return keyHash(name, kCosignatureV1, rawPublicKey);
}

Signature signAsLog(std::string_view text, std::string_view name, const SigningKey& key) {
  return Signature{std::string(name), logKeyHash(name, key.publicKeyRaw()), key.sign(text)};
}

bool verifiedByLog(const Note& n, std::string_view name, std::string_view rawPublicKey) {
  const std::string hash = logKeyHash(name, rawPublicKey);
  for (const auto& s : n.signatures) {
    if (s.name == name && s.keyHash == hash && verifySignature(rawPublicKey, n.text, s.bytes)) return true;
  }
  return false;
}

Signature cosign(std::string_view text, std::string_view witnessName, const SigningKey& key, uint64_t timestamp) {
  std::string stamp(8, '\0');
  for (int i = 0; i < 8; ++i) stamp[7 - i] = static_cast<char>((timestamp >> (8 * i)) & 0xff);
  return Signature{std::string(witnessName), cosignatureKeyHash(witnessName, key.publicKeyRaw()),
                   stamp + key.sign(cosignedMessage(text, timestamp))};
}

std::optional<uint64_t> cosignedAt(const Note& n, std::string_view witnessName, std::string_view rawPublicKey) {
  const std::string hash = cosignatureKeyHash(witnessName, rawPublicKey);
  for (const auto& s : n.signatures) {
    if (s.name != witnessName || s.keyHash != hash || s.bytes.size() != 8 + 64) continue;
    uint64_t t = 0;
    for (int i = 0; i < 8; ++i) t = (t << 8) | static_cast<unsigned char>(s.bytes[i]);
    if (verifySignature(rawPublicKey, cosignedMessage(n.text, t), std::string_view(s.bytes).substr(8))) return t;
  }
  return std::nullopt;
}

std::string checkpointText(const Checkpoint& c) {
  return c.origin + "\n" + std::to_string(c.size) + "\n" +
         base64(std::string_view(reinterpret_cast<const char*>(c.root.data()), c.root.size())) + "\n";
}

std::optional<Checkpoint> parseCheckpoint(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty() && lines.size() < 3) {
    const size_t eol = text.find('\n');
    if (eol == std::string_view::npos) return std::nullopt;
    lines.push_back(text.substr(0, eol));
    text.remove_prefix(eol + 1);
  }
  if (lines.size() != 3 || !validName(lines[0])) return std::nullopt;
  Checkpoint c;
  c.origin = std::string(lines[0]);
  if (!decimal(lines[1], &c.size)) return std::nullopt;
  auto root = unbase64(lines[2]);
  if (!root || root->size() != c.root.size()) return std::nullopt;
  std::copy(root->begin(), root->end(), c.root.begin());
  return c;
}

LogRead parseLog(std::string_view text) {
  LogRead out;
  size_t pos = 0;
  while (pos < text.size() && out.notes.size() < 10'000'000) {
    const size_t number = out.notes.size() + 1;
    const size_t textEnd = text.find("\n\n", pos);
    if (textEnd == std::string_view::npos) {
      out.problem = "note " + std::to_string(number) + " is incomplete (no signature): the log was cut mid-write";
      return out;
    }
    size_t end = textEnd + 2;
    while (end < text.size() && text[end] != '\n') {
      const size_t eol = text.find('\n', end);
      if (eol == std::string_view::npos) {
        out.problem = "note " + std::to_string(number) + " ends mid-line: the log was cut mid-write";
        return out;
      }
      end = eol + 1;
    }
    auto n = parse(text.substr(pos, end - pos));
    if (!n) {
      out.problem = "note " + std::to_string(number) + " is not a signed note";
      return out;
    }
    out.notes.push_back(std::move(*n));
    pos = end < text.size() ? end + 1 : end;  // the blank line between notes
  }
  return out;
}

}  // namespace vigil::note
