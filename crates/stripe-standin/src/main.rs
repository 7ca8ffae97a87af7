//! `frevix-stripe-standin`: the Stripe stand-in as its own process, for
//! `make mesh` and the fault drills. Point payments at it with
//! `FREVIX_PAYMENTS__STRIPE__API_BASE=http://127.0.0.1:PORT/`.

use std::net::SocketAddr;

use clap::Parser;
use frevix_stripe_standin::{Endpoint, StandIn};

#[derive(Parser)]
#[command(about = "A stand-in for the parts of Stripe's API Frevix calls")]
struct Args {
    /// Where to listen.
    #[arg(long, default_value = "127.0.0.1:12111")]
    listen: SocketAddr,
    /// Where webhook events go (payments' `/webhooks/stripe`).
    #[arg(long, env = "STANDIN_WEBHOOK_URL")]
    webhook_url: Option<String>,
    /// The secret events are signed with.
    #[arg(
        long,
        env = "STANDIN_WEBHOOK_SECRET",
        default_value = "whsec_frevix_mesh"
    )]
    webhook_secret: String,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let args = Args::parse();
    let standin = StandIn::start(args.listen).await?;
    if let Some(url) = args.webhook_url {
        standin.set_endpoint(Endpoint {
            url,
            secret: args.webhook_secret,
        });
    }
    tracing::info!(base = standin.base(), "stripe stand-in listening");
    tokio::signal::ctrl_c().await?;
    Ok(())
}
