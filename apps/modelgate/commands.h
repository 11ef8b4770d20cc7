// The modelgate subcommands. Each Register* function adds one subcommand to
// the CLI and arranges for it to run when chosen; each lives in its own file.
#pragma once

#include <CLI/CLI.hpp>

namespace mg::cli {

void RegisterTokenize(CLI::App& app);
void RegisterEmbed(CLI::App& app);
void RegisterClassify(CLI::App& app);
void RegisterBench(CLI::App& app);
void RegisterRedact(CLI::App& app);
void RegisterKeygen(CLI::App& app);
void RegisterLicense(CLI::App& app);
void RegisterRelease(CLI::App& app);
void RegisterVerify(CLI::App& app);
void RegisterCost(CLI::App& app);
void RegisterItems(CLI::App& app);
void RegisterRecommend(CLI::App& app);
void RegisterTrace(CLI::App& app);
void RegisterWatermark(CLI::App& app);
void RegisterKeys(CLI::App& app);
void RegisterUsage(CLI::App& app);
void RegisterAudit(CLI::App& app);
// Training (src/train).
void RegisterTrain(CLI::App& app);
void RegisterEval(CLI::App& app);
void RegisterServe(CLI::App& app);

}  // namespace mg::cli
