//! Unit tests of the pure parts of `jenkins_remote_cluster_access`.
