// Key flags shared by punchlab-node's servers: a long-lived node key given as
// text (--private-key privkey:...) or in a file (--key-file, e.g. the output
// of `punchlab-node gen-key --kind node`), or a fresh one for this run.
#pragma once

#include <boost/program_options.hpp>
#include <string>

#include "punchlab/crypto/keys.h"
#include "punchlab/crypto/sign.h"
#include "punchlab/random.h"

namespace punchlab::cli {

void AddNodeKeyOptions(boost::program_options::options_description& options);
// The key the flags name; a fresh one from `rng` when neither flag is given.
// Throws UsageError for both flags at once, unreadable files and bad key text.
NodePrivateKey NodeKeyFromFlags(const boost::program_options::variables_map& vm,
                                RandomSource& rng);

// Key text from a flag; UsageError (naming `flag` and the expected form) if it
// does not parse.
VerifyKey ParseVerifyKeyFlag(const std::string& flag, const std::string& text);
SigningKey ParseSigningKeyFlag(const std::string& flag, const std::string& text);

}  // namespace punchlab::cli
