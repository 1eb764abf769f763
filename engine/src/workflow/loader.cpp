// loadWorkflow: safe YAML read -> structural and semantic checks -> canonical form and hash.
#include "vigil/loader.h"

#include <fstream>

#include <openssl/evp.h>

#include "builder.h"

namespace vigil {
namespace {

std::string sha256Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), digest, &len, EVP_sha256(), nullptr);
  static const char* kHex = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned i = 0; i < len; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 15];
  }
  return out;
}

}  // namespace

const char* stepKindName(StepKind k) {
  switch (k) {
    case StepKind::kUses: return "uses";
    case StepKind::kParallel: return "parallel";
    case StepKind::kForeach: return "foreach";
    case StepKind::kSwitch: return "switch";
    case StepKind::kCall: return "call";
    case StepKind::kSet: return "set";
    case StepKind::kDecide: return "decide";
    case StepKind::kApproval: return "approval";
    case StepKind::kWait: return "wait";
  }
  return "unknown";
}

bool hasType(const Json& v, std::string_view type) {
  if (type == "any") return true;
  if (type == "string") return v.is_string();
  if (type == "number") return v.is_number();
  if (type == "integer") return v.is_number_integer() || v.is_number_unsigned();
  if (type == "boolean") return v.is_boolean();
  if (type == "object") return v.is_object();
  if (type == "array") return v.is_array();
  return false;
}

std::optional<StepIndex> Workflow::findStep(std::string_view id) const {
  for (StepIndex i = 0; i < steps.size(); ++i) {
    if (steps[i].id == id) {
      return i;
    }
  }
  return std::nullopt;
}

LoadResult loadWorkflow(std::string_view yamlText, const std::string& fileName, const LoadLimits& limits) {
  LoadResult result;
  // The reader skips a byte order mark; the checker must see the same text so that its
  // positions agree with the reader's.
  if (yamlText.size() <= limits.maxBytes && yamlText.substr(0, 3) == "\xEF\xBB\xBF") {
    yamlText.remove_prefix(3);
  }
  yaml::Limits yl{limits.maxBytes, limits.maxDepth, limits.maxNodes};
  yaml::Node root;
  yaml::ReadError err;
  if (!yaml::read(yamlText, yl, &root, &err)) {
    result.diagnostics.push_back(Diagnostic{fileName, err.line, err.column, DiagnosticCategory::kYaml, err.message});
    return result;
  }
  auto wf = std::make_shared<Workflow>();
  wf->sourceFile = fileName;
  loader::Checker checker(fileName, yamlText, limits.expr);
  try {
    loader::Builder builder(checker, *wf, limits);
    builder.build(root);
    wf->areaNames = std::move(checker.areaNames());
  } catch (const std::bad_alloc&) {
    checker.error(SourcePos{1, 1}, DiagnosticCategory::kYaml, "workflow too large to load");
  }
  result.diagnostics = std::move(checker.diagnostics());
  if (!result.diagnostics.empty()) {
    sortDiagnostics(result.diagnostics);
    result.partial = std::move(wf);
    return result;
  }
  wf->canonicalJson = yaml::toJson(root).dump();
  wf->hash = sha256Hex(wf->canonicalJson);
  result.workflow = std::move(wf);
  return result;
}

LoadResult loadWorkflowFile(const std::string& path, const LoadLimits& limits) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return LoadResult{nullptr, {Diagnostic{path, 1, 1, DiagnosticCategory::kYaml, "cannot open file"}}, nullptr};
  }
  in.seekg(0, std::ios::end);
  auto size = static_cast<size_t>(std::max<std::streamoff>(0, in.tellg()));
  if (size > limits.maxBytes) {
    return LoadResult{nullptr, {Diagnostic{path, 1, 1, DiagnosticCategory::kYaml,
                                           "file is " + std::to_string(size) + " bytes, more than the limit of " +
                                               std::to_string(limits.maxBytes)}}, nullptr};
  }
  in.seekg(0);
  std::string text(size, '\0');
  in.read(text.data(), static_cast<std::streamsize>(size));
  return loadWorkflow(text, path, limits);
}

}  // namespace vigil
