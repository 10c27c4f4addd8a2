//! meshdeck's terminal UI. This foundation holds what does not depend on the mesh model:
//! terminal setup and teardown, themes, keymaps and intents, and reusable widgets. Screens and
//! the run loop build on it; nothing here performs cluster IO.

pub mod app;
pub mod backend;
pub mod config_file;
pub mod engine_backend;
pub mod highlight;
pub mod intent;
pub mod keymap;
pub mod keys;
pub mod logging;
pub mod run;
pub mod tasks;
pub mod terminal;
pub mod theme;
pub mod views;
pub mod widgets;
