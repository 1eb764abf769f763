#include "vigil/value_template.h"

namespace vigil {

Result<Json> ValueTemplate::evaluate(const EvalContext& ctx) const {
  if (slots_.empty()) {
    return literal_;
  }
  Json out = literal_;
  for (const auto& slot : slots_) {
    auto v = slot.tmpl.evaluate(ctx);
    if (!v) {
      std::string where = slot.where.to_string();
      return Status::invalidArgument((where.empty() ? std::string() : "at " + where + ": ") + v.status().message());
    }
    out[slot.where] = std::move(v).value();
  }
  return out;
}

}  // namespace vigil
