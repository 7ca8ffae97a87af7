//! The codec every generated stub uses: prost's, with smaller buffers.
//!
//! tonic gives each call, and each message stream for its whole life, an
//! encode and a decode buffer of 8 KiB up front. Frevix's messages are
//! mostly well under 1 KiB, and a messaging process holds one Chat stream
//! per open app, most of them idle: two 8 KiB buffers each are most of an
//! idle stream's memory. Starting at 1 KiB, a buffer grows when a larger
//! message (a media chunk) needs it; the yield threshold stays tonic's.

use std::marker::PhantomData;

use tonic::codec::{BufferSettings, Codec};
use tonic_prost::ProstCodec;

/// Initial capacity of a call's encode and decode buffers.
const INITIAL_BUFFER: usize = 1024;
/// tonic's default: past this many encoded bytes, a stream yields.
const YIELD_THRESHOLD: usize = 32 * 1024;

/// [`ProstCodec`] with [`INITIAL_BUFFER`]-sized buffers.
#[derive(Debug)]
pub struct SmallBuffers<T, U>(PhantomData<(T, U)>);

impl<T, U> Default for SmallBuffers<T, U> {
    fn default() -> Self {
        Self(PhantomData)
    }
}

impl<T, U> Codec for SmallBuffers<T, U>
where
    T: prost::Message + Send + 'static,
    U: prost::Message + Default + Send + 'static,
{
    type Encode = T;
    type Decode = U;
    type Encoder = <ProstCodec<T, U> as Codec>::Encoder;
    type Decoder = <ProstCodec<T, U> as Codec>::Decoder;

    fn encoder(&mut self) -> Self::Encoder {
        ProstCodec::<T, U>::raw_encoder(settings())
    }

    fn decoder(&mut self) -> Self::Decoder {
        ProstCodec::<T, U>::raw_decoder(settings())
    }
}

fn settings() -> BufferSettings {
    BufferSettings::new(INITIAL_BUFFER, YIELD_THRESHOLD)
}
