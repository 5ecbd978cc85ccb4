fn main() {
    std::process::exit(tessera_cli::main_with(tessera_cli::args::parse()));
}
