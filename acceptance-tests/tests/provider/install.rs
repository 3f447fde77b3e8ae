//! The provider installed as users install it: `terraform init` from a filesystem mirror packed by
//! `release/pack.py` (the packing `make release` uses), with the lock file it writes checked
//! (`Workdir::assert_lock_file`: the mirror JSON's `h1:`, `providers lock` reproducing it, a second
//! `init` accepting the package). One case per resource runs this way (this module's for
//! `jenkins_pod_template`; the resources' own modules for the others), on every Terraform.

use acceptance_tests::terraform::{
    Mirror, PROVIDER_SOURCE, Workdir, apply_case_installed, example, lock_block, mirror, mirror_cli_config,
    pack_into, terraforms,
};

#[test]
fn pod_template_example_applies_through_init_from_the_mirror() {
    let hcl = example("resources/jenkins_pod_template/resource.tf");
    apply_case_installed("install-pod-template", &hcl, |w| {
        let lock = std::fs::read_to_string(w.dir.join(".terraform.lock.hcl")).expect("lock file");
        assert!(lock_block(&lock).is_some_and(|b| b.contains(&mirror().h1)), "{lock}");
        let base = w.resource("jenkins_pod_template.base");
        assert!(base["definition"].as_str().is_some_and(|d| d.contains("name: base")), "{base}");
    });
}

/// With the lock file, `init` refuses a package whose contents differ from what was locked, even at
/// the same version from the same mirror path; without it, the same package installs (so the
/// refusal is the lock file's doing).
#[test]
fn a_tampered_package_is_refused_by_the_lock_file() {
    for tf in terraforms() {
        let w = Workdir::installed("install-tamper", tf);
        w.write_config("resource \"jenkins_pod_template\" \"t\" {\n  name = \"t\"\n}\n");
        // Same version, same file names, other bytes: what a swapped mirror file would be.
        let out = w.dir.join("tampered");
        std::fs::create_dir_all(&out).expect("mkdir");
        let fake = out.join("terraform-provider-jenkins");
        std::fs::write(&fake, b"#!/bin/sh\necho tampered\n").expect("write fake binary");
        pack_into(&fake, &out);
        let tampered = Mirror::read(&out);
        assert_eq!(tampered.version, mirror().version);
        assert_ne!(tampered.h1, mirror().h1);
        std::fs::write(w.dir.join("dev.tfrc"), mirror_cli_config(&tampered.root)).expect("cli config");
        std::fs::remove_dir_all(w.dir.join(".terraform")).expect("remove .terraform");
        let r = w.run(&["init", "-input=false", "-no-color"]);
        assert_ne!(r.code, 0, "[{}] init accepted a tampered package:\n{}", tf.version, r.text());
        let text = r.text().split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            text.contains("doesn't match any of the checksums previously recorded in the dependency lock file"),
            "[{}] {}",
            tf.version,
            r.text()
        );
        assert!(text.contains(PROVIDER_SOURCE), "{text}");
        std::fs::remove_file(w.dir.join(".terraform.lock.hcl")).expect("remove lock");
        let _ = std::fs::remove_dir_all(w.dir.join(".terraform"));
        let r = w.run(&["init", "-input=false", "-no-color"]);
        assert_eq!(r.code, 0, "[{}] without a lock file the package installs:\n{}", tf.version, r.text());
        w.cleanup();
    }
}
