#![no_main]

libfuzzer_sys::fuzz_target!(
    init: sageflow::fuzzing::let_decoder_panics_unwind(),
    |data: &[u8]| sageflow::fuzzing::parquet(data)
);
