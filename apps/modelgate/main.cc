// modelgate: fine-tune, evaluate, release and serve BERT-family models.
//
// This file only assembles the subcommands and turns every failure into one
// "error: ..." line on stderr with a non-zero exit status.
#include <cstdio>
#include <exception>

#include "apps/modelgate/cli_error.h"
#include "apps/modelgate/commands.h"

int main(int argc, char** argv) {
  CLI::App app{
      "modelgate: commercialise BERT-family models - tokenize, embed, classify, train,\n"
      "release (open, closed, hybrid) and serve them from one native program."};
  app.set_version_flag("--version", "modelgate 0.1.0");
  app.require_subcommand(1);
  mg::cli::RegisterTokenize(app);
  mg::cli::RegisterEmbed(app);
  mg::cli::RegisterClassify(app);
  mg::cli::RegisterBench(app);
  mg::cli::RegisterRedact(app);
  mg::cli::RegisterKeygen(app);
  mg::cli::RegisterRelease(app);
  mg::cli::RegisterVerify(app);
  mg::cli::RegisterLicense(app);
  mg::cli::RegisterCost(app);
  mg::cli::RegisterItems(app);
  mg::cli::RegisterRecommend(app);
  mg::cli::RegisterTrace(app);
  mg::cli::RegisterWatermark(app);
  mg::cli::RegisterKeys(app);
  mg::cli::RegisterUsage(app);
  mg::cli::RegisterAudit(app);
  mg::cli::RegisterTrain(app);
  mg::cli::RegisterEval(app);
  mg::cli::RegisterServe(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    std::fprintf(stderr, "error: %s (see --help)\n", e.what());
    return 2;
  } catch (const mg::cli::CliError& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return e.exit_code();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
