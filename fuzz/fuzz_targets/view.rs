#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    mqtt_codec_fuzz::view(data);
});
