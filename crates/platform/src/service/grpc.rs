//! How every Frevix gRPC service is set up on the server: the message size
//! limit both ways and gzip. Requests compressed with gzip are accepted
//! (decompressed into at most the size limit: a bomb is refused
//! RESOURCE_EXHAUSTED without being opened past it), and answers are
//! compressed for clients that offer gzip in `grpc-accept-encoding`, as
//! mobile clients on slow links do. Generated servers share no trait for
//! these settings, hence a macro.

/// `server` (a generated `…ServiceServer`) with messages up to `max` bytes
/// and gzip both ways.
#[macro_export]
macro_rules! grpc_service {
    ($server:expr, $max:expr) => {
        $server
            .max_decoding_message_size($max)
            .max_encoding_message_size($max)
            .accept_compressed(::tonic::codec::CompressionEncoding::Gzip)
            .send_compressed(::tonic::codec::CompressionEncoding::Gzip)
    };
}
