//! Generates the tfplugin6 and go-plugin gRPC servers from `proto/` into `OUT_DIR`.
//!
//! protoc comes from protoc-bin-vendored so the build needs no system protoc. Only server code is
//! generated; every RPC gets a default `Unimplemented` body so the service can grow with the
//! protocol while the provider implements only what Terraform calls.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    const PROTOS: [&str; 2] = ["proto/tfplugin6.proto", "proto/plugin.proto"];
    for p in PROTOS {
        println!("cargo:rerun-if-changed={p}");
    }
    println!("cargo:rerun-if-changed=build.rs");
    // SAFETY: build scripts are single-threaded; nothing else reads the environment concurrently.
    unsafe { std::env::set_var("PROTOC", protoc_bin_vendored::protoc_bin_path()?) };
    tonic_prost_build::configure()
        .build_client(false)
        .build_server(true)
        .build_transport(false)
        .generate_default_stubs(true)
        .emit_rerun_if_changed(false)
        .compile_protos(&PROTOS, &["proto"])?;
    Ok(())
}
