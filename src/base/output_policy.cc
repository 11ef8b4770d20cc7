#include "base/output_policy.h"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace mg {
namespace {

Status Bad(std::string_view directive, std::string_view why) {
  return InvalidArgumentError("output policy directive '" + std::string(directive) + "' " +
                              std::string(why) +
                              " (expected full, label, topk:K, no-scores, scores:N, "
                              "embed-decimals:N, embed-dims:D or no-embed)");
}

// The integer after "name:" in `directive`, within [low, high].
Result<int64_t> ReadNumber(std::string_view directive, std::string_view digits, int64_t low,
                           int64_t high) {
  int64_t value = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (digits.empty() || error != std::errc() || end != digits.data() + digits.size()) {
    return Bad(directive, "needs a whole number after ':'");
  }
  if (value < low || value > high) {
    return Bad(directive,
               "is out of range: " + std::to_string(low) + " to " + std::to_string(high));
  }
  return value;
}

// The smaller of two limits where `none` means no limit.
int64_t Tighter(int64_t a, int64_t b, int64_t none) {
  if (a == none) return b;
  if (b == none) return a;
  return std::min(a, b);
}

}  // namespace

Result<OutputPolicy> ParseOutputPolicy(std::string_view text) {
  OutputPolicy policy;
  bool saw_full = false, saw_other = false;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view directive = text.substr(start, end - start);
    start = end + 1;
    if (directive.empty()) {
      if (text.empty()) break;
      return InvalidArgumentError("output policy '" + std::string(text) +
                                  "' has an empty directive");
    }
    const size_t colon = directive.find(':');
    const std::string_view name = directive.substr(0, colon);
    const std::string_view value =
        colon == std::string_view::npos ? std::string_view() : directive.substr(colon + 1);
    const bool has_value = colon != std::string_view::npos;
    const bool takes_value =
        name == "scores" || name == "topk" || name == "embed-decimals" || name == "embed-dims";
    if (takes_value && !has_value)
      return Bad(directive, "needs a number: " + std::string(name) + ":N");
    if (!takes_value && has_value) return Bad(directive, "takes no value");
    if (name == "full") {
      saw_full = true;
      continue;
    }
    saw_other = true;
    if (name == "label") {
      policy.top_k = Tighter(policy.top_k, 1, 0);
      policy.scores = false;
    } else if (name == "no-scores") {
      policy.scores = false;
    } else if (name == "no-embed") {
      policy.embeddings = false;
    } else if (name == "topk") {
      MG_ASSIGN_OR_RETURN(int64_t k, ReadNumber(directive, value, 1, int64_t{1} << 30));
      policy.top_k = Tighter(policy.top_k, k, 0);
    } else if (name == "embed-dims") {
      MG_ASSIGN_OR_RETURN(int64_t dims, ReadNumber(directive, value, 1, int64_t{1} << 20));
      policy.embed_dims = Tighter(policy.embed_dims, dims, 0);
    } else if (name == "scores") {
      MG_ASSIGN_OR_RETURN(int64_t n, ReadNumber(directive, value, 0, kMaxOutputDecimals));
      policy.score_decimals = static_cast<int>(Tighter(policy.score_decimals, n, -1));
    } else if (name == "embed-decimals") {
      MG_ASSIGN_OR_RETURN(int64_t n, ReadNumber(directive, value, 0, kMaxOutputDecimals));
      policy.embed_decimals = static_cast<int>(Tighter(policy.embed_decimals, n, -1));
    } else {
      return Bad(directive, "is unknown");
    }
  }
  if (saw_full && saw_other) {
    return InvalidArgumentError("output policy '" + std::string(text) +
                                "': 'full' cannot be combined with other directives");
  }
  return Normalized(policy);
}

OutputPolicy Normalized(const OutputPolicy& policy) {
  OutputPolicy out = policy;
  if (!out.scores) out.score_decimals = -1;
  if (!out.embeddings) {
    out.embed_decimals = -1;
    out.embed_dims = 0;
  }
  return out;
}

std::string ToString(const OutputPolicy& policy) {
  const OutputPolicy p = Normalized(policy);
  if (p.full()) return "full";
  std::string out;
  auto add = [&out](const std::string& directive) {
    if (!out.empty()) out.push_back(',');
    out.append(directive);
  };
  if (p.top_k == 1 && !p.scores) {
    add("label");
  } else {
    if (p.top_k > 0) add("topk:" + std::to_string(p.top_k));
    if (!p.scores) add("no-scores");
  }
  if (p.score_decimals >= 0) add("scores:" + std::to_string(p.score_decimals));
  if (!p.embeddings) {
    add("no-embed");
  } else {
    if (p.embed_dims > 0) add("embed-dims:" + std::to_string(p.embed_dims));
    if (p.embed_decimals >= 0) add("embed-decimals:" + std::to_string(p.embed_decimals));
  }
  return out;
}

OutputPolicy Stricter(const OutputPolicy& a, const OutputPolicy& b) {
  OutputPolicy out;
  out.score_decimals = static_cast<int>(Tighter(a.score_decimals, b.score_decimals, -1));
  out.top_k = Tighter(a.top_k, b.top_k, 0);
  out.scores = a.scores && b.scores;
  out.embed_decimals = static_cast<int>(Tighter(a.embed_decimals, b.embed_decimals, -1));
  out.embed_dims = Tighter(a.embed_dims, b.embed_dims, 0);
  out.embeddings = a.embeddings && b.embeddings;
  return Normalized(out);
}

float RoundToDecimals(float value, int decimals) {
  if (decimals < 0 || !std::isfinite(value)) return value;
  const double scale = std::pow(10.0, decimals);
  return static_cast<float>(std::round(static_cast<double>(value) * scale) / scale);
}

}  // namespace mg
