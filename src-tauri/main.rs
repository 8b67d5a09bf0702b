// Without this, Windows opens a console window next to the app window in release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    std::process::exit(guichet_qf::main_entry());
}
