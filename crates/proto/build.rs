//! Compiles every `.proto` under the repository's `proto/` buf module with a
//! pure-Rust compiler (no system `protoc`), generates prost messages and tonic
//! stubs, and writes the descriptor set that server reflection serves.

use std::path::{Path, PathBuf};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?).join("../../proto");
    let mut files = Vec::new();
    collect_protos(&root, &mut files)?;
    files.sort();
    println!("cargo:rerun-if-changed={}", root.display());
    for file in &files {
        println!("cargo:rerun-if-changed={}", file.display());
    }

    // Encoded by the compiler itself, so custom options (google.api.http)
    // stay in the set reflection serves: prost's descriptor types drop them.
    let mut compiler = protox::Compiler::new([&root])?;
    compiler.include_imports(true);
    compiler.open_files(&files)?;
    let encoded = compiler.encode_file_descriptor_set();
    let fds: prost_types::FileDescriptorSet = prost::Message::decode(encoded.as_slice())?;
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(out_dir.join("frevix_descriptor.bin"), &encoded)?;

    let mut config = tonic_prost_build::Config::new();
    config.enable_type_names();
    config.type_name_domain(["."], "type.googleapis.com");
    // Media chunks pass through without copies.
    config.bytes([".frevix.messaging.v1"]);
    tonic_prost_build::configure()
        // Smaller per-call buffers (src/codec.rs).
        .codec_path("crate::codec::SmallBuffers")
        .build_client(true)
        .build_server(true)
        .compile_fds_with_config(fds, config)?;
    Ok(())
}

fn collect_protos(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect_protos(&path, out)?;
        } else if path.extension().is_some_and(|ext| ext == "proto") {
            out.push(path);
        }
    }
    Ok(())
}
