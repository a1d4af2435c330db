//! `bare-broadcast [ADDRESS]`: the benchmarks' baseline WebSocket server (see
//! `chitchat_bench::bare`). Listens on ADDRESS (default `127.0.0.1:0`, a free port)
//! and prints `bare-broadcast listening on http://HOST:PORT`.

use std::io::Write;

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let address = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:0".to_owned());
    let listener = std::net::TcpListener::bind(&address)?;
    let bound = listener.local_addr()?;
    let mut stdout = std::io::stdout();
    writeln!(stdout, "{}http://{bound}", chitchat_bench::bare::LISTENING)?;
    stdout.flush()?;
    chitchat_bench::bare::serve(listener).await
}
