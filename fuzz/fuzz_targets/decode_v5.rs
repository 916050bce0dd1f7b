#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    mqtt_codec_fuzz::decode_v5(data);
});
