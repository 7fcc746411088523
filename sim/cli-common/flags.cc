#include "cli-common/flags.h"

#include <algorithm>
#include <iostream>
#include <optional>
#include <set>

#include "cli-common/subcommand.h"

namespace punchlab::cli {

namespace po = boost::program_options;

namespace {

// The positional names `spec.options` does not declare.
std::set<std::string> HiddenPositionals(const CommandSpec& spec) {
  std::set<std::string> names;
  const unsigned total = spec.positional.max_total_count();
  // An unlimited last name repeats for every later position: the first few
  // positions name every distinct one.
  const unsigned distinct = std::min(total, 32u);
  for (unsigned i = 0; i < distinct; ++i) {
    const std::string& name = spec.positional.name_for_position(i);
    if (spec.options.find_nothrow(name, false) == nullptr) names.insert(name);
  }
  return names;
}

// "12", "0.5", "-1": digits with at most one '.', optionally negative.
bool IsBareNumber(const std::string& text) {
  size_t digits = 0;
  size_t dots = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char ch = text[i];
    if (ch >= '0' && ch <= '9') {
      ++digits;
    } else if (ch == '.') {
      ++dots;
    } else if (!(ch == '-' && i == 0)) {
      return false;
    }
  }
  return digits > 0 && dots <= 1;
}

std::string Describe(Duration d) {
  if (d == Duration::Seconds(86400)) return "a day (86400s)";
  return d.ToString();
}

}  // namespace

bool ParseCommandLine(const std::vector<std::string>& argv, const CommandSpec& spec,
                      po::variables_map& vm) {
  po::options_description shown = spec.options;
  shown.add_options()("help,h", "show this help and exit");
  po::options_description all;
  all.add(shown);
  for (const std::string& name : HiddenPositionals(spec)) {
    all.add_options()(name.c_str(), po::value<std::vector<std::string>>());
  }
  const std::vector<std::string> args(argv.begin() + (argv.empty() ? 0 : 1), argv.end());
  try {
    po::store(po::command_line_parser(args).options(all).positional(spec.positional).run(), vm);
    if (vm.count("help")) {
      std::cout << "Usage: " << ProgramName() << " " << spec.usage << "\n\n";
      if (!spec.about.empty()) std::cout << spec.about << "\n\n";
      std::cout << shown;
      return false;
    }
    po::notify(vm);
  } catch (const po::error& e) {
    throw UsageError(e.what());
  }
  return true;
}

Endpoint ParseEndpointFlag(const std::string& flag, const std::string& text) {
  if (auto endpoint = Endpoint::Parse(text)) return *endpoint;
  throw UsageError(flag + ": '" + text +
                   "' is not an address:port (write e.g. 203.0.113.1:3478 or [2001:db8::1]:3478)");
}

Duration ParseDurationFlag(const std::string& flag, const std::string& text,
                           const DurationRange& range) {
  const std::string out_of_range =
      flag + ": must be a duration " + (range.zero_ok ? "from 0s to " : "above 0 and at most ") +
      Describe(range.max) + ", not '" + text + "'";
  const bool bare = range.bare_seconds && IsBareNumber(text);
  if (bare && text[0] == '-') throw UsageError(out_of_range);
  const std::optional<Duration> d = Duration::Parse(bare ? text + "s" : text);
  if (!d) {
    throw UsageError(flag + ": '" + text + "' is not a duration (write e.g. 30s, 1.5s or 500ms" +
                     (range.bare_seconds ? "; a bare number is seconds)" : ")"));
  }
  if ((*d == Duration::Zero() && !range.zero_ok) || *d > range.max) throw UsageError(out_of_range);
  return *d;
}

}  // namespace punchlab::cli
