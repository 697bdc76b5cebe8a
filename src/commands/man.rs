//! `stackctl man [--dir DIR]`: the manual page, generated from the command tree (the help
//! text is the doc comments of `cli.rs`, so the page cannot drift from `--help`).

use std::path::Path;

use clap::CommandFactory;

use crate::cli::Cli;
use crate::error::Error;
use crate::printer::Printer;

/// One manual page.
#[derive(Debug)]
pub struct Page {
    /// File name: `stackctl.1`, `stackctl-job-submit.1`.
    pub name: String,
    /// The page in roff.
    pub roff: Vec<u8>,
}

/// Prints stackctl(1), or with `dir` writes it and a page per command there; with `json`, one
/// object instead (docs/json-output.md).
pub fn run(dir: Option<&Path>, json: bool, printer: &mut Printer) -> Result<(), Error> {
    let mut pages = pages()?;
    let Some(dir) = dir else {
        let main = pages.swap_remove(0);
        if json {
            let doc = serde_json::json!({
                "dir": null,
                "pages": [main.name],
                "page": String::from_utf8_lossy(&main.roff),
            });
            return super::print_json(printer, &doc);
        }
        printer.out().write_all(&main.roff)?;
        return Ok(());
    };
    let write_err = |path: &Path, source| Error::WriteFile {
        path: path.to_owned(),
        source,
    };
    fs_err::create_dir_all(dir).map_err(|e| write_err(dir, e))?;
    for page in &pages {
        let path = dir.join(&page.name);
        fs_err::write(&path, &page.roff).map_err(|e| write_err(&path, e))?;
    }
    printer.status(format_args!(
        "wrote {} manual pages to {}: `man -l {}`, or put the directory in a man1/ of your MANPATH",
        pages.len(),
        dir.display(),
        dir.join(&pages[0].name).display()
    ))?;
    if json {
        let names: Vec<&str> = pages.iter().map(|p| p.name.as_str()).collect();
        let doc = serde_json::json!({ "dir": dir, "pages": names, "page": null });
        super::print_json(printer, &doc)?;
    }
    Ok(())
}

/// stackctl(1) first, then a page for every command and subcommand, in help order.
pub fn pages() -> Result<Vec<Page>, Error> {
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    let mut pages = Vec::new();
    add(&cmd, &mut pages)?;
    Ok(pages)
}

fn add(cmd: &clap::Command, pages: &mut Vec<Page>) -> Result<(), Error> {
    let man = clap_mangen::Man::new(cmd.clone());
    let mut roff = Vec::new();
    man.render(&mut roff)?;
    pages.push(Page {
        name: man.get_filename(),
        roff,
    });
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        add(sub, pages)?;
    }
    Ok(())
}
