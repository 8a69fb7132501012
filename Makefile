# Placeholder until the front-door issue; see README.
.PHONY: test
test:
	cargo fmt --all --check
	cargo clippy --workspace --all-targets -- -D warnings
	cargo test --workspace
