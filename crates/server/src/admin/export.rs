//! `chitchat admin export PHONE [-o FILE]`: the person's data as `data.json` and
//! their uploaded files under `files/`, in one tar archive.

use super::Failure;
use crate::config::Config;
use chitchat_domain::moderation::Actor;
use std::path::{Path, PathBuf};

pub async fn run(config: &Config, phone: &str, output: Option<&Path>) -> Result<(), Failure> {
    let assembly = crate::app::assemble(config).await?;
    let admin = &assembly.services.moderation;
    let user = admin.user_by_phone(phone).await?;
    let path = output.map_or_else(
        || PathBuf::from(format!("chitchat-export-{}.tar", user.phone.as_str().trim_start_matches('+'))),
        Path::to_path_buf,
    );
    let (export, uploads) = admin.export(Actor::Cli, user.id).await?;
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|e| Failure::from(format!("{}: {e}", path.display())))?;
    let mut archive = tar::Builder::new(std::io::BufWriter::new(file));
    let json = serde_json::to_vec_pretty(&export)?;
    append(&mut archive, "data.json", &json)?;
    let mut missing = 0;
    for upload in &uploads {
        let Some(mut chunks) = admin.upload_bytes(upload).await? else {
            missing += 1;
            continue;
        };
        let mut bytes = Vec::new();
        while let Some(chunk) = chunks.next_chunk().await? {
            bytes.extend_from_slice(&chunk);
        }
        append(&mut archive, &format!("files/{}", upload.id()), &bytes)?;
    }
    archive.into_inner()?.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    println!(
        "wrote {}: data.json ({} chats, {} messages) and {} files{}",
        path.display(),
        export.chats.len(),
        export.chats.iter().map(|c| c.messages.len()).sum::<usize>(),
        uploads.len() - missing,
        if missing > 0 { format!(" ({missing} files were missing from storage)") } else { String::new() }
    );
    Ok(())
}

fn append<W: std::io::Write>(archive: &mut tar::Builder<W>, name: &str, bytes: &[u8]) -> std::io::Result<()> {
    let mut header = tar::Header::new_gnu();
    header.set_size(bytes.len() as u64);
    header.set_mode(0o600);
    header.set_mtime(chrono::Utc::now().timestamp().max(0).unsigned_abs());
    header.set_cksum();
    archive.append_data(&mut header, name, bytes)
}
