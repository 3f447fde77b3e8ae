//! The provider as Terraform sees it (being wired: see provider/config.rs and provider/context.rs).
