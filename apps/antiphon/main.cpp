// antiphon: the command-line program. Each command lives in its own file; this one wires them up and
// maps failures to exit codes (0 ok, 1 bad input, 2 bad usage).
#include <iostream>

#include "antiphon/core/error.h"
#ifdef ANTIPHON_HAVE_TORCH
#include "antiphon/train/neural.h"
#endif
#include "cli.h"

int main(int argc, char** argv) {
  using namespace antiphon;
  CLI::App app{"Antiphon: musical dialogue with melody models, and their interrogation."};
  app.set_version_flag("--version", "antiphon 0.1.0");
  app.require_subcommand(1);
  app.fallthrough();
#ifdef ANTIPHON_HAVE_TORCH
  register_neural_families();
#endif
  int exit_code = cli::kExitOk;
  cli::add_stats_command(app, exit_code);
  cli::add_convert_command(app, exit_code);
  cli::add_encode_command(app, exit_code);
  cli::add_model_commands(app, exit_code);
  cli::add_generate_commands(app, exit_code);
  cli::add_bench_command(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return cli::kExitUsage;
  } catch (const ConfigError& e) {
    std::cerr << "antiphon: error: " << e.what() << "\n";
    return cli::kExitUsage;
  } catch (const Error& e) {
    std::cerr << "antiphon: error: " << e.what() << "\n";
    return cli::kExitBadInput;
  } catch (const std::exception& e) {
    std::cerr << "antiphon: error: " << e.what() << "\n";
    return cli::kExitBadInput;
  }
  return exit_code;
}
