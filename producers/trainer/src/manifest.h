// Resume manifests: what `ledger replay RUN --to-step N --output json` prints (the run's
// configuration, data versions with digests, seeds and the checkpoint at or before step N),
// turned back into this trainer's flags.
#pragma once

#include <string>
#include <vector>

namespace lt {

struct ResumeManifest {
  std::string run_id;
  std::uint64_t to_step = 0;
  std::string checkpoint_path;    // local file the checkpoint URI names; its digest is verified
  std::string checkpoint_digest;  // "sha256:..."
  std::string train_digest;       // the train and validation splits the run was bound to
  std::string validation_digest;
  // Flags that reproduce the run's configuration, then --resume CKPT; flags given on the
  // command line after them win.
  std::vector<std::string> args;
};

// Reads and checks a manifest file. Throws UsageError naming the file and what is wrong
// (not JSON, another format, a config value that is not this trainer's, a checkpoint that is
// missing or whose digest differs).
ResumeManifest read_resume_manifest(const std::string& path);

}  // namespace lt
