//! Runnable examples of the MQTT workspace: see the `[[example]]` targets
//! (`cargo run --example codec_tour`).
