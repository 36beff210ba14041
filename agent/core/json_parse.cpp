#include "core/json_parse.hpp"

#include <cmath>
#include <deque>
#include <vector>

namespace depot {
namespace {

using nlohmann::json;

// Builds the DOM from nlohmann's SAX events (its SAX parser is iterative), refusing depth,
// duplicate keys and non-finite numbers as they arrive. With an ArrayStream, the elements of
// that top-level array are handed over as they complete instead of being kept.
class BoundedDom : public nlohmann::json_sax<json> {
 public:
  BoundedDom(json& root, int max_depth, const ArrayStream* stream, bool first_of_duplicates)
      : root_(root), max_depth_(max_depth), stream_(stream),
        first_of_duplicates_(first_of_duplicates) {}

  std::string error;

  bool null() override { return put(json(nullptr)); }
  bool boolean(bool v) override { return put(json(v)); }
  bool number_integer(number_integer_t v) override { return put(json(v)); }
  bool number_unsigned(number_unsigned_t v) override { return put(json(v)); }
  bool number_float(number_float_t v, const string_t& text) override {
    if (!std::isfinite(v)) return fail("number " + printable(text, 40) + " is out of range");
    return put(json(v));
  }
  bool string(string_t& v) override { return put(json(std::move(v))); }
  bool binary(binary_t&) override { return fail("binary values are not JSON"); }
  bool start_object(std::size_t) override { return open(json::object()); }
  bool key(string_t& k) override {  // a duplicate is refused when its value is put
    key_ = std::move(k);
    return true;
  }
  bool end_object() override { return close(); }
  bool start_array(std::size_t) override { return open(json::array()); }
  bool end_array() override { return close(); }
  bool parse_error(std::size_t, const std::string&,
                   const nlohmann::detail::exception& ex) override {
    if (error.empty()) error = syntax_message(ex);
    return false;
  }

 private:
  static std::string syntax_message(const nlohmann::detail::exception& ex) {
    // nlohmann's text quotes the bytes it read ("last read: '...'"), which may be invalid
    // UTF-8 or controls: keep its position and reason, printable, without its error code.
    std::string what = ex.what();
    if (what.rfind("[json.exception.", 0) == 0 && what.find("] ") != std::string::npos)
      what = what.substr(what.find("] ") + 2);
    if (what.find("number overflow") != std::string::npos) what = "number is out of range";
    return "not valid JSON: " + printable(what, 300);
  }

  bool fail(std::string message) {
    error = std::move(message);
    return false;
  }
  bool put(json v) {
    if (stack_.empty()) {
      root_ = std::move(v);
      return true;
    }
    json& parent = *stack_.back();
    if (parent.is_object()) return insert(parent, std::move(v)) != nullptr;
    if (&parent == streamed_) {
      stream_->each(v, next_index_++);
      return true;
    }
    parent.push_back(std::move(v));
    return true;
  }
  bool close() {
    const json* done = stack_.back();
    stack_.pop_back();
    if (done == &pending_) {  // a streamed element is complete
      stream_->each(pending_, next_index_++);
      pending_ = json();
    }
    return true;
  }
  // Adds the member key_: v to `obj` with one lookup; null (and the error) for a duplicate.
  json* insert(json& obj, json v) {
    const auto type = v.type();
    auto [it, fresh] = obj.get_ref<json::object_t&>().emplace(std::move(key_), std::move(v));
    if (!fresh) {
      if (first_of_duplicates_) {  // parsed (and bounded) into a slot that is dropped
        discarded_.emplace_back(type);
        return &discarded_.back();
      }
      fail("duplicate key \"" + printable(it->first, 60) + "\"");
      return nullptr;
    }
    return &it->second;
  }
  bool open(json v) {
    if (static_cast<int>(stack_.size()) >= max_depth_)
      return fail("nested deeper than " + std::to_string(max_depth_) + " levels");
    json* slot;
    if (stack_.empty()) {
      root_ = std::move(v);
      slot = &root_;
    } else {
      json& parent = *stack_.back();
      const bool streams = stream_ && !streamed_ && stack_.size() == 1 && parent.is_object() &&
                           v.is_array() && key_ == stream_->key;
      if (parent.is_object()) {
        slot = insert(parent, std::move(v));
        if (!slot) return false;
        if (streams) streamed_ = slot;
      } else if (&parent == streamed_) {
        pending_ = std::move(v);
        slot = &pending_;
      } else {
        parent.push_back(std::move(v));
        slot = &parent.back();
      }
    }
    stack_.push_back(slot);
    return true;
  }

  json& root_;
  int max_depth_;
  std::vector<json*> stack_;
  std::string key_;
  const ArrayStream* stream_;
  json* streamed_ = nullptr;  // the streamed array in the tree (stays empty)
  json pending_;              // the streamed element being built
  std::size_t next_index_ = 0;
  bool first_of_duplicates_ = false;
  std::deque<json> discarded_;  // later values of duplicate keys (stable addresses)
};

// Length of the well-formed UTF-8 sequence at s[i], or 0.
std::size_t utf8_len(std::string_view s, std::size_t i) {
  auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  if (c < 0x80) return 1;
  std::size_t n;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;  // no surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (b(i + 1) < lo || b(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k)
    if (b(i + k) < 0x80 || b(i + k) > 0xBF) return 0;
  return n;
}

}  // namespace

Expected<json> parse_json(std::string_view text, const JsonLimits& limits) {
  return parse_json(text, limits, ArrayStream{});
}

Expected<json> parse_json(std::string_view text, const JsonLimits& limits,
                          const ArrayStream& stream) {
  if (text.size() > limits.max_bytes)
    return Error{"the JSON text is " + std::to_string(text.size()) + " bytes; at most " +
                 std::to_string(limits.max_bytes) + " are accepted"};
  // nlohmann's lexer takes a NUL for the end of input and would ignore whatever follows it;
  // JSON text never holds a raw NUL (inside strings it is written \u0000).
  if (auto nul = text.find('\0'); nul != std::string_view::npos)
    return Error{"not valid JSON: a NUL byte at byte " + std::to_string(nul)};
  json root;
  BoundedDom dom(root, limits.max_depth, stream.each ? &stream : nullptr,
                 limits.first_of_duplicates);
  bool ok = false;
  try {
    ok = json::sax_parse(text.begin(), text.end(), &dom, json::input_format_t::json,
                         /*strict=*/true, /*ignore_comments=*/false);
  } catch (const std::exception& e) {  // not expected from sax_parse; never let one out
    return Error{"not valid JSON: " + printable(e.what(), 300)};
  }
  if (!ok) {
    return Error{dom.error.empty() ? std::string("not valid JSON") : dom.error};
  }
  return root;
}

bool valid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    std::size_t n = utf8_len(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string printable(std::string_view s, std::size_t max_chars) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  std::size_t chars = 0;
  for (std::size_t i = 0; i < s.size(); ++chars) {
    if (chars >= max_chars) {
      out += "...";
      break;
    }
    std::size_t n = utf8_len(s, i);
    auto c = static_cast<unsigned char>(s[i]);
    const bool c1 = n == 2 && c == 0xC2 && static_cast<unsigned char>(s[i + 1]) <= 0x9F;
    if (n == 3 && c == 0xE2) {
      // The bidirectional overrides and isolates (U+202A-U+202E, U+2066-U+2069) reorder what
      // follows them on screen: a log line or a page could then show another text than it
      // holds. Shown as \u202e.
      const auto b1 = static_cast<unsigned char>(s[i + 1]), b2 = static_cast<unsigned char>(s[i + 2]);
      if ((b1 == 0x80 && b2 >= 0xAA && b2 <= 0xAE) || (b1 == 0x81 && b2 >= 0xA6 && b2 <= 0xA9)) {
        const unsigned cp = 0x2000u + ((b1 & 0x3Fu) << 6) + (b2 & 0x3Fu);
        out += "\\u";
        for (int shift = 12; shift >= 0; shift -= 4) out += hex[(cp >> shift) & 15];
        i += n;
        continue;
      }
    }
    if (n == 0 || c < 0x20 || c == 0x7F || c1) {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return out;
}

std::string text_rule(std::string_view s, std::size_t max_bytes) {
  if (s.size() > max_bytes)
    return std::to_string(s.size()) + " bytes; at most " + std::to_string(max_bytes) +
           " are accepted";
  if (!valid_utf8(s)) return "\"" + printable(s, 60) + "\" is not valid UTF-8";
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    // C0, DEL, and C1 (U+0080-U+009F, UTF-8 C2 80..C2 9F: U+009B is an 8-bit CSI a terminal acts on)
    const bool c1 = c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) <= 0x9F;
    if (c < 0x20 || c == 0x7F || c1)
      return "\"" + printable(s, 60) + "\" contains a control character";
    // The bidirectional overrides U+202D and U+202E make a stored text display as another
    // (an audit line that reads backwards); printable() shows them as \u escapes. Embeddings
    // and isolates (U+202A-C, U+2066-9) stay: i18n libraries wrap names in them (Fluent's
    // FSI/PDI), and Arabic or Hebrew product names exported from spreadsheets carry them.
    if (c == 0xE2 && i + 2 < s.size() && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
        (static_cast<unsigned char>(s[i + 2]) == 0xAD || static_cast<unsigned char>(s[i + 2]) == 0xAE))
      return "\"" + printable(s, 60) + "\" contains a bidirectional override";
  }
  return {};
}

std::string text_problem(std::string_view field, std::string_view s, std::size_t max_bytes) {
  auto rule = text_rule(s, max_bytes);
  return rule.empty() ? rule : std::string(field) + ": " + rule;
}

}  // namespace depot
