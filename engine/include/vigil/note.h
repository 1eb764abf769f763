// Signed notes and checkpoints in the formats transparency logs share (C2SP signed-note,
// tlog-checkpoint and tlog-cosignature), so that a checkpoint the daemon publishes can be
// checked, co-signed and kept by tools that are not vigil.
//
// A note is its text (non-empty lines, each ending in '\n'), a blank line, and one or more
// signature lines "— NAME BASE64(keyhash[4] || signature)". A log's Ed25519 key signs the
// text; its key hash is the first four bytes of SHA-256(NAME || '\n' || 0x01 || key[32]).
// A witness's cosignature (type 0x04) signs "cosignature/v1\ntime T\n" || text and carries
// the time T as eight big-endian bytes between the key hash and the signature.
//
// Everything here parses input that may come from an attacker: malformed text gives
// nullopt or false, never a crash.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "vigil/merkle.h"
#include "vigil/signing.h"

namespace vigil::note {

std::string base64(std::string_view bytes);
// Standard padded base64 only; nullopt for anything else.
std::optional<std::string> unbase64(std::string_view text);

// Key names (and so origins, which are the log's key name): non-empty, no space or '+',
// printable ASCII.
bool validName(std::string_view name);

struct Signature {
  std::string name;
  std::string keyHash;  // 4 bytes
  std::string bytes;    // the rest: a signature (log) or timestamp || signature (cosignature)
};

struct Note {
  std::string text;  // the signed body, ending in '\n'
  std::vector<Signature> signatures;
};

// Splits a note into its text and signature lines; nullopt when it is not one.
std::optional<Note> parse(std::string_view note);
// The note as text: body, blank line, signature lines.
std::string format(const Note& n);

std::string logKeyHash(std::string_view name, std::string_view rawPublicKey);
std::string cosignatureKeyHash(std::string_view name, std::string_view rawPublicKey);

// A signature line by the log's key, named `name`.
Signature signAsLog(std::string_view text, std::string_view name, const SigningKey& key);
// True when `n` carries a valid log signature named `name` by `rawPublicKey`.
bool verifiedByLog(const Note& n, std::string_view name, std::string_view rawPublicKey);

// A witness's cosignature of `text` at `timestamp` (seconds since the epoch).
Signature cosign(std::string_view text, std::string_view witnessName, const SigningKey& key, uint64_t timestamp);
// The timestamp of a valid cosignature named `witnessName` by `rawPublicKey`; nullopt when
// there is none.
std::optional<uint64_t> cosignedAt(const Note& n, std::string_view witnessName, std::string_view rawPublicKey);

// The tlog-checkpoint body: origin, tree size, base64 root.
struct Checkpoint {
  std::string origin;
  uint64_t size = 0;
  merkle::Hash root{};
};
std::string checkpointText(const Checkpoint& c);
// Strict: exactly the three lines (extension lines are ignored, as the format says).
std::optional<Checkpoint> parseCheckpoint(std::string_view text);

// Every note in a checkpoint log: notes one after another, each followed by a blank line.
// Problems name the note's position (1-based); a torn last note (a crash mid-append) is
// reported, not skipped.
struct LogRead {
  std::vector<Note> notes;
  std::string problem;  // "" when every note parsed
};
LogRead parseLog(std::string_view text);

}  // namespace vigil::note
