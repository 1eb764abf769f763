// Expression and Template: the public face of the expression language.
#include "eval.h"

namespace vigil {

using expr_detail::EvalFailure;
using expr_detail::Evaluator;

std::string ExprError::toString() const { return message + " at col " + std::to_string(offset + 1); }

const Json* JsonBindings::lookup(std::string_view name) const {
  if (!object_.is_object()) {
    return nullptr;
  }
  auto it = object_.find(name);
  return it == object_.end() ? nullptr : &*it;
}

std::variant<Expression, ExprError> Expression::parse(std::string_view text, const ExprLimits& limits) {
  auto r = expr_detail::parseProgram(text, limits);
  if (auto* err = std::get_if<ExprError>(&r)) {
    return *err;
  }
  return Expression(std::move(std::get<std::shared_ptr<expr_detail::Program>>(r)));
}

const std::string& Expression::text() const { return program_->text; }
const std::vector<PathRef>& Expression::paths() const { return program_->paths; }
const std::vector<AreaNameRef>& Expression::areaNames() const { return program_->areaNames; }

Result<Json> Expression::evaluate(const EvalContext& ctx) const {
  try {
    Evaluator ev(*program_, ctx);
    return ev.eval(program_->root).take();
  } catch (const EvalFailure& f) {
    return Status::invalidArgument(f.message);
  } catch (const std::bad_alloc&) {
    return Status::resourceExhausted("expression ran out of memory");
  } catch (const Json::exception&) {
    // Every JSON access is type-checked first; reaching here is a bug, reported, not a crash.
    return Status::internal("internal error while evaluating an expression");
  }
}

bool Template::hasExpressions(std::string_view text) { return text.find("${{") != std::string_view::npos; }

std::variant<Template, ExprError> Template::parse(std::string_view text, const ExprLimits& limits) {
  Template t;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t open = text.find("${{", pos);
    if (open == std::string_view::npos) {
      t.parts_.push_back(Part{std::string(text.substr(pos)), nullptr, pos});
      break;
    }
    if (open > pos) {
      t.parts_.push_back(Part{std::string(text.substr(pos, open - pos)), nullptr, pos});
    }
    size_t close = text.find("}}", open + 3);
    if (close == std::string_view::npos) {
      return ExprError{open, "'${{' is not closed by '}}'"};
    }
    size_t start = open + 3;
    std::string_view inner = text.substr(start, close - start);
    size_t lead = inner.find_first_not_of(" \t");
    if (lead == std::string_view::npos) {
      return ExprError{open, "empty '${{ }}'"};
    }
    auto parsed = Expression::parse(inner, limits);
    if (auto* err = std::get_if<ExprError>(&parsed)) {
      return ExprError{start + err->offset, err->message};
    }
    t.parts_.push_back(Part{{}, std::make_shared<Expression>(std::move(std::get<Expression>(parsed))), start});
    pos = close + 2;
  }
  return t;
}

Result<Json> Template::evaluate(const EvalContext& ctx) const {
  if (isSingleExpression()) {
    auto r = parts_[0].expr->evaluate(ctx);
    if (!r) {
      return r;
    }
    return std::move(r).value();
  }
  std::string out;
  for (const auto& p : parts_) {
    if (!p.expr) {
      out += p.literal;
      continue;
    }
    auto r = p.expr->evaluate(ctx);
    if (!r) {
      return r.status();
    }
    out += expr_detail::renderText(*r);
  }
  return Json(std::move(out));
}

}  // namespace vigil
