//! Generates the Anchor IDL of the Tessera program the way `anchor idl build` does, without the
//! Anchor CLI: `anchor_lang_idl`'s builder runs the program's `__anchor_private_print_idl*` tests
//! (`cargo test --features idl-build`) and assembles the JSON fragments they print.
//!
//! Usage: `tessera-idl-gen <program dir> <output.json>` (see scripts/idl.sh).
use {
    anchor_lang_idl::build::IdlBuilder,
    anyhow::{bail, Context, Result},
    std::{fs, path::PathBuf},
};

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [program, out] = args.as_slice() else {
        bail!("usage: tessera-idl-gen <program dir> <output.json>");
    };
    let program = fs::canonicalize(program).with_context(|| format!("program dir {program}"))?;

    // anchor-lang-idl 0.1.4 turns RUSTUP_TOOLCHAIN (which rustup sets for the processes it runs)
    // into a literal `cargo +{toolchain}` argument; the toolchain comes from
    // rust-toolchain.toml anyway.
    std::env::remove_var("RUSTUP_TOOLCHAIN");

    let idl = IdlBuilder::new()
        .program_path(program)
        .resolution(true)
        .skip_lint(false)
        .no_docs(false)
        // Only the library's tests print IDL fragments; the lockfile is the committed one.
        .cargo_args(vec!["--lib".into(), "--locked".into()])
        .build()
        .context("building the IDL")?;

    let mut json = serde_json::to_string_pretty(&idl)?;
    json.push('\n');
    let out = PathBuf::from(out);
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir)?;
    }
    fs::write(&out, json).with_context(|| format!("writing {}", out.display()))?;
    Ok(())
}
