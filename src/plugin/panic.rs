//! The panic hook: Terraform recognises a stderr line starting `panic: ` and reports the plugin as
//! crashed, quoting what follows; without it a panic shows up only as a broken connection.
//!
//! A panic ends the process, as in Go providers: tokio would otherwise swallow a panicking RPC
//! task and leave Terraform with a dead connection and no explanation.

use std::panic::PanicHookInfo;

/// Installs the hook once per process: our line, then the default hook (message, backtrace), then
/// exit status 2 after unlinking the socket.
pub fn install() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        eprintln!("{}", panic_line(info));
        default(info);
        super::serve::exit_now(2);
    }));
}

/// `panic: <message> at <file>:<line>:<col>`, on one line.
fn panic_line(info: &PanicHookInfo<'_>) -> String {
    let payload = info.payload();
    let msg = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(non-string panic payload)");
    let msg = msg.replace('\n', " ");
    match info.location() {
        Some(l) => format!("panic: {msg} at {}:{}:{}", l.file(), l.line(), l.column()),
        None => format!("panic: {msg}"),
    }
}
