// The evaluator: walks the node array with a step budget; every failure is an EvalFailure
// caught in Expression::evaluate, so no exception reaches a caller.
#include "eval.h"

#include <cmath>
#include <limits>

namespace vigil::expr_detail {

const char* typeName(const Json& v) {
  switch (v.type()) {
    case Json::value_t::null: return "null";
    case Json::value_t::boolean: return "boolean";
    case Json::value_t::string: return "string";
    case Json::value_t::array: return "list";
    case Json::value_t::object: return "object";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float: return "number";
    default: return "value";
  }
}

std::string at(std::string msg, uint32_t offset) {
  return std::move(msg) + " at col " + std::to_string(offset + 1);
}

void Evaluator::checkSize(const Json& v, uint32_t offset) const {
  size_t size = v.is_string() ? v.get_ref<const std::string&>().size() : v.is_array() ? v.size() : 0;
  if (size > p_.limits.maxValueBytes) {
    fail(offset, "value larger than the limit of " + std::to_string(p_.limits.maxValueBytes));
  }
}

bool Evaluator::truthy(const Value& v, uint32_t offset, const char* what) {
  const Json& j = v.get();
  if (!j.is_boolean()) {
    fail(offset, std::string(what) + " needs a boolean, got " + typeName(j));
  }
  return j.get<bool>();
}

Value Evaluator::eval(uint32_t idx) {
  const Node& n = p_.nodes[idx];
  if (++steps_ > p_.limits.maxSteps) {
    fail(n.offset, "evaluation exceeded " + std::to_string(p_.limits.maxSteps) + " steps");
  }
  switch (n.kind) {
    case NodeKind::kLiteral:
      return Value::ref(&n.value);
    case NodeKind::kArray: {
      Json arr = Json::array();
      for (uint32_t a : n.args) {
        arr.push_back(eval(a).take());
      }
      return Value::own(std::move(arr));
    }
    case NodeKind::kName: {
      const Json* j = ctx_.bindings != nullptr ? ctx_.bindings->lookup(n.name) : nullptr;
      if (j == nullptr) {
        fail(n.offset, "unknown name '" + n.name + "'");
      }
      return Value::ref(j);
    }
    case NodeKind::kMember: {
      Value obj = eval(n.args[0]);
      const Json& o = obj.get();
      if (o.is_null()) {
        return Value::own(nullptr);
      }
      if (!o.is_object()) {
        fail(n.offset, "cannot read field '" + n.name + "' of " + typeName(o));
      }
      auto it = o.find(n.name);
      if (it == o.end()) {
        return Value::own(nullptr);
      }
      // A borrowed parent lends its child; an owned one is about to die, so copy out.
      return obj.borrowed() ? Value::ref(&*it) : Value::own(*it);
    }
    case NodeKind::kIndex: {
      Value obj = eval(n.args[0]);
      Value key = eval(n.args[1]);
      const Json& o = obj.get();
      const Json& k = key.get();
      if (o.is_null()) {
        return Value::own(nullptr);
      }
      if (o.is_array()) {
        if (!k.is_number_integer()) {
          fail(n.offset, std::string("list index must be an integer, got ") + typeName(k));
        }
        if (!isInt(k)) {
          return Value::own(nullptr);  // beyond any list
        }
        long long i = k.get<long long>();
        if (i < 0) {
          i += static_cast<long long>(o.size());
        }
        if (i < 0 || i >= static_cast<long long>(o.size())) {
          return Value::own(nullptr);
        }
        return obj.borrowed() ? Value::ref(&o[static_cast<size_t>(i)]) : Value::own(o[static_cast<size_t>(i)]);
      }
      if (o.is_object()) {
        if (!k.is_string()) {
          fail(n.offset, std::string("object key must be a string, got ") + typeName(k));
        }
        auto it = o.find(k.get_ref<const std::string&>());
        if (it == o.end()) {
          return Value::own(nullptr);
        }
        return obj.borrowed() ? Value::ref(&*it) : Value::own(*it);
      }
      if (o.is_string()) {
        fail(n.offset, "cannot index a string; use split() or matches()");
      }
      fail(n.offset, std::string("cannot index ") + typeName(o));
    }
    case NodeKind::kUnary: {
      Value v = eval(n.args[0]);
      if (n.op == Op::kNot) {
        return Value::own(!truthy(v, n.offset, "'!'"));
      }
      const Json& j = v.get();
      if (isInt(j)) {
        long long x = j.get<long long>();
        if (x == std::numeric_limits<long long>::min()) {
          fail(n.offset, "integer overflow");
        }
        return Value::own(-x);
      }
      if (j.is_number()) {
        return Value::own(-j.get<double>());
      }
      fail(n.offset, std::string("cannot negate ") + typeName(j));
    }
    case NodeKind::kAnd:
      if (!truthy(eval(n.args[0]), n.offset, "'&&'")) {
        return Value::own(false);
      }
      return Value::own(truthy(eval(n.args[1]), n.offset, "'&&'"));
    case NodeKind::kOr:
      if (truthy(eval(n.args[0]), n.offset, "'||'")) {
        return Value::own(true);
      }
      return Value::own(truthy(eval(n.args[1]), n.offset, "'||'"));
    case NodeKind::kCond:
      return truthy(eval(n.args[0]), n.offset, "'?:' condition") ? eval(n.args[1]) : eval(n.args[2]);
    case NodeKind::kBinary:
      return binary(n);
    case NodeKind::kCall:
      return call(n);
  }
  fail(n.offset, "internal error: unknown node");
}

namespace {

// nlohmann's is_number_integer() is true for signed and unsigned integers alike.
bool bigUnsigned(const Json& j) {
  return j.is_number_unsigned() &&
         j.get<unsigned long long>() > static_cast<unsigned long long>(std::numeric_limits<long long>::max());
}

}  // namespace

bool isInt(const Json& j) { return j.is_number_integer() && !bigUnsigned(j); }

int compareNumbers(const Json& a, const Json& b) {
  if (a.is_number_integer() && b.is_number_integer()) {
    if (bigUnsigned(a) || bigUnsigned(b)) {
      if (!a.is_number_unsigned() || !b.is_number_unsigned()) {
        return bigUnsigned(a) ? 1 : -1;  // the other is a signed integer, below LLONG_MAX
      }
      unsigned long long x = a.get<unsigned long long>(), y = b.get<unsigned long long>();
      return x < y ? -1 : x > y ? 1 : 0;
    }
    long long x = a.get<long long>(), y = b.get<long long>();
    return x < y ? -1 : x > y ? 1 : 0;
  }
  double x = a.get<double>(), y = b.get<double>();
  return x < y ? -1 : x > y ? 1 : 0;
}

bool jsonEqual(const Json& a, const Json& b) {
  if (a.is_number() && b.is_number()) {
    return compareNumbers(a, b) == 0;
  }
  if (a.type() != b.type()) {
    return false;
  }
  if (a.is_array()) {
    if (a.size() != b.size()) {
      return false;
    }
    for (size_t i = 0; i < a.size(); ++i) {
      if (!jsonEqual(a[i], b[i])) {
        return false;
      }
    }
    return true;
  }
  if (a.is_object()) {
    if (a.size() != b.size()) {
      return false;
    }
    for (auto it = a.begin(); it != a.end(); ++it) {
      auto jt = b.find(it.key());
      if (jt == b.end() || !jsonEqual(*it, *jt)) {
        return false;
      }
    }
    return true;
  }
  return a == b;
}

Value Evaluator::binary(const Node& n) {
  Value lv = eval(n.args[0]);
  Value rv = eval(n.args[1]);
  const Json& a = lv.get();
  const Json& b = rv.get();
  switch (n.op) {
    case Op::kEq: return Value::own(jsonEqual(a, b));
    case Op::kNe: return Value::own(!jsonEqual(a, b));
    case Op::kLt: case Op::kLe: case Op::kGt: case Op::kGe: {
      int cmp = 0;
      if (a.is_number() && b.is_number()) {
        cmp = compareNumbers(a, b);
      } else if (a.is_string() && b.is_string()) {
        int c = a.get_ref<const std::string&>().compare(b.get_ref<const std::string&>());
        cmp = c < 0 ? -1 : c > 0 ? 1 : 0;
      } else {
        fail(n.offset, std::string("cannot compare ") + typeName(a) + " with " + typeName(b));
      }
      bool r = n.op == Op::kLt ? cmp < 0 : n.op == Op::kLe ? cmp <= 0 : n.op == Op::kGt ? cmp > 0 : cmp >= 0;
      return Value::own(r);
    }
    case Op::kIn: {
      if (b.is_array()) {
        for (const auto& e : b) {
          if (jsonEqual(a, e)) {
            return Value::own(true);
          }
        }
        return Value::own(false);
      }
      if (b.is_string()) {
        if (!a.is_string()) {
          fail(n.offset, std::string("'in' a string needs a string on the left, got ") + typeName(a));
        }
        return Value::own(b.get_ref<const std::string&>().find(a.get_ref<const std::string&>()) != std::string::npos);
      }
      if (b.is_object()) {
        if (!a.is_string()) {
          fail(n.offset, std::string("'in' an object needs a string key on the left, got ") + typeName(a));
        }
        return Value::own(b.contains(a.get_ref<const std::string&>()));
      }
      fail(n.offset, std::string("'in' needs a list, string or object on the right, got ") + typeName(b));
    }
    case Op::kAdd:
      if (a.is_string() && b.is_string()) {
        Json s = a.get_ref<const std::string&>() + b.get_ref<const std::string&>();
        checkSize(s, n.offset);
        return Value::own(std::move(s));
      }
      if (a.is_array() && b.is_array()) {
        if (a.size() + b.size() > p_.limits.maxValueBytes) {
          fail(n.offset, "value larger than the limit of " + std::to_string(p_.limits.maxValueBytes));
        }
        Json r = a;
        for (const auto& e : b) {
          r.push_back(e);
        }
        return Value::own(std::move(r));
      }
      [[fallthrough]];
    case Op::kSub: case Op::kMul: case Op::kDiv: case Op::kMod: {
      static const char* kVerb[] = {"", "", "", "add", "subtract", "multiply", "divide", "take the remainder of"};
      if (!a.is_number() || !b.is_number()) {
        fail(n.offset, std::string("cannot ") + kVerb[static_cast<int>(n.op)] + " " + typeName(a) + " and " + typeName(b));
      }
      if (isInt(a) && isInt(b)) {
        long long x = a.get<long long>(), y = b.get<long long>(), r = 0;
        switch (n.op) {
          case Op::kAdd: if (__builtin_add_overflow(x, y, &r)) fail(n.offset, "integer overflow"); return Value::own(r);
          case Op::kSub: if (__builtin_sub_overflow(x, y, &r)) fail(n.offset, "integer overflow"); return Value::own(r);
          case Op::kMul: if (__builtin_mul_overflow(x, y, &r)) fail(n.offset, "integer overflow"); return Value::own(r);
          case Op::kDiv:
            if (y == 0) fail(n.offset, "division by zero");
            if (x == std::numeric_limits<long long>::min() && y == -1) fail(n.offset, "integer overflow");
            if (x % y == 0) return Value::own(x / y);
            return Value::own(static_cast<double>(x) / static_cast<double>(y));
          default:
            if (y == 0) fail(n.offset, "division by zero");
            if (y == -1) return Value::own(0);
            return Value::own(x % y);
        }
      }
      double x = a.get<double>(), y = b.get<double>();
      double r = 0;
      switch (n.op) {
        case Op::kAdd: r = x + y; break;
        case Op::kSub: r = x - y; break;
        case Op::kMul: r = x * y; break;
        case Op::kDiv: if (y == 0) fail(n.offset, "division by zero"); r = x / y; break;
        default: if (y == 0) fail(n.offset, "division by zero"); r = std::fmod(x, y); break;
      }
      if (!std::isfinite(r)) {
        fail(n.offset, "number out of range");
      }
      return Value::own(r);
    }
    default:
      fail(n.offset, "internal error: unknown operator");
  }
}

Value Evaluator::call(const Node& n) {
  std::vector<Value> args;
  args.reserve(n.args.size());
  // default() is lazy in its second argument only in the sense that it is cheap; all
  // functions take evaluated arguments, which keeps the step budget honest.
  for (uint32_t a : n.args) {
    args.push_back(eval(a));
  }
  return callFunction(*this, n, args);
}

}  // namespace vigil::expr_detail
