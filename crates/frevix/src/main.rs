//! `frevix`: serve the marketplace (all-in-one or one service of the mesh)
//! and run operator commands.

use std::net::SocketAddr;
use std::path::PathBuf;

mod reconcile;
mod tail;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use frevix::app::App;
use frevix::config::{FrevixConfig, LogFormat, Overrides, Shape};
use frevix::registry;
use frevix_identity::admin::{AdminOutcome, create_admin};
use frevix_platform::db::connect_and_migrate;
use frevix_platform::events::Outbox;
use frevix_platform::telemetry;
use secrecy::ExposeSecret;

/// mimalloc rather than glibc's malloc: a call allocates and frees many
/// small buffers on whichever thread runs it (`make bench`'s reads step
/// measures the difference).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "frevix",
    version,
    about = "Frevix, the freelance marketplace backend"
)]
struct Cli {
    /// A TOML configuration file (FREVIX_… environment variables override it).
    #[arg(long, global = true, env = "FREVIX_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve every service on one port (all), or one service of the mesh.
    Serve {
        /// `all`, or the name of one service.
        #[arg(value_parser = shape_names(true))]
        what: String,
        /// Address to listen on [all: 127.0.0.1:50050; one service: its
        /// port of the mesh, e.g. identity 127.0.0.1:50051].
        #[arg(long)]
        listen: Option<SocketAddr>,
        /// Where the all-in-one shape keeps its SQLite files and mail [./data].
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Operator commands.
    Admin {
        #[command(subcommand)]
        command: Admin,
    },
    /// Fill a running Frevix with demo freelancers, gigs, clients, jobs and
    /// proposals through the public API.
    SeedDemo {
        /// Where Frevix answers.
        #[arg(long, default_value = "http://127.0.0.1:50050")]
        target: String,
        /// Where its verification mails land (the all-in-one `data/mail`).
        #[arg(long, default_value = "data/mail")]
        mail_dir: PathBuf,
        #[arg(long, default_value_t = 50)]
        freelancers: usize,
        #[arg(long, default_value_t = 8)]
        clients: usize,
    },
    /// Apply one service's pending database migrations and exit (the
    /// Kubernetes migration Job runs this before new servers roll out). Needs
    /// only FREVIX_<SERVICE>__DATABASE__URL.
    Migrate {
        #[arg(value_parser = shape_names(false))]
        service: String,
    },
    /// List the services this binary runs, one `name mesh-port` per line
    /// (`make mesh` starts each).
    Services,
    /// Domain events.
    Events {
        #[command(subcommand)]
        command: Events,
    },
    /// Payments' operator commands.
    Payments {
        #[command(subcommand)]
        command: Payments,
    },
}

#[derive(Subcommand)]
enum Payments {
    /// Compare the books with the payment provider's charges, refunds and
    /// transfers from --from until --until (UTC days); fails when they differ.
    Reconcile {
        /// First day, e.g. 2026-11-01.
        #[arg(long)]
        from: String,
        /// The day after the last, e.g. 2026-12-01.
        #[arg(long)]
        until: String,
        /// Use the all-in-one data under this directory (else payments.database.url).
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum Events {
    /// Print events as JSON lines as they flow: from JetStream when
    /// FREVIX_EVENTS__NATS_URL is set, else from the all-in-one data directory.
    Tail {
        /// Only this producing service [all of them].
        #[arg(long)]
        service: Option<String>,
        /// Start from the oldest event kept instead of new ones.
        #[arg(long)]
        from_start: bool,
        /// The all-in-one data directory [./data].
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
}

/// The registered services' names (and `all`), for the command line.
fn shape_names(with_all: bool) -> clap::builder::PossibleValuesParser {
    let mut names = if with_all { vec!["all"] } else { Vec::new() };
    names.extend(registry::names());
    clap::builder::PossibleValuesParser::new(names)
}

#[derive(Subcommand)]
enum Admin {
    /// Create an ADMIN account, or grant ADMIN to an existing account.
    /// The password comes from FREVIX_ADMIN_PASSWORD or is generated and printed.
    CreateAdmin {
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "Frevix Admin")]
        display_name: String,
        /// Use the all-in-one database under this directory (else identity.database.url).
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run(cli))
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::SeedDemo {
            target,
            mail_dir,
            freelancers,
            clients,
        } => frevix::seed::run(&target, &mail_dir, freelancers, clients).await,
        Command::Events {
            command:
                Events::Tail {
                    service,
                    from_start,
                    data_dir,
                },
        } => tail::run(cli.config.as_deref(), service, from_start, data_dir).await,
        Command::Payments {
            command:
                Payments::Reconcile {
                    from,
                    until,
                    data_dir,
                },
        } => reconcile::run(cli.config.as_deref(), &from, &until, data_dir).await,
        Command::Services => {
            for entry in registry::SERVICES {
                println!("{} {}", entry.name(), entry.mesh_port());
            }
            Ok(())
        }
        Command::Migrate { service } => migrate(cli.config.as_deref(), &service).await,
        Command::Serve {
            what,
            listen,
            data_dir,
        } => {
            let shape = Shape::parse(&what).with_context(|| format!("unknown service {what}"))?;
            let config = FrevixConfig::load(
                shape,
                cli.config.as_deref(),
                &Overrides { listen, data_dir },
            )?;
            serve(shape, config).await
        }
        Command::Admin {
            command:
                Admin::CreateAdmin {
                    email,
                    display_name,
                    data_dir,
                },
        } => {
            let shape = if data_dir.is_some()
                || std::env::var_os("FREVIX_IDENTITY__DATABASE__URL").is_none()
            {
                Shape::AllInOne
            } else {
                Shape::of::<frevix_identity::Identity>()
            };
            let mut config: FrevixConfig =
                frevix_platform::config::load(&FrevixConfig::default(), cli.config.as_deref())?;
            if let Some(dir) = data_dir {
                config.data_dir = dir;
            }
            config.resolve(shape);
            let db = connect_and_migrate::<frevix_identity::Migrator>(
                config.identity.database.url.expose_secret(),
                1,
            )
            .await
            .context("identity database")?;
            let (password, generated) = match std::env::var("FREVIX_ADMIN_PASSWORD") {
                Ok(password) => (password, false),
                Err(_) => (generate_password(), true),
            };
            let outbox = Outbox::new(
                frevix_identity::PRODUCER,
                config.events.subject_prefix.clone(),
            );
            match create_admin(&db, &outbox, &email, &display_name, &password).await {
                Ok(AdminOutcome::Created(id)) => {
                    println!("created ADMIN account {id} for {email}");
                    if generated {
                        println!("password: {password}");
                    }
                }
                Ok(AdminOutcome::Promoted(id)) => {
                    println!(
                        "granted ADMIN to existing account {id} ({email}); its password is unchanged"
                    );
                }
                Err(error) => anyhow::bail!("cannot create the admin: {error}"),
            }
            Ok(())
        }
    }
}

async fn migrate(file: Option<&std::path::Path>, service: &str) -> anyhow::Result<()> {
    let config: FrevixConfig = frevix_platform::config::load(&FrevixConfig::default(), file)?;
    let entry = registry::service(service).with_context(|| format!("unknown service {service}"))?;
    let key = format!("{service}.database");
    let database = entry.database(&config);
    database.validate(&key)?;
    let db = entry
        .connect(database.url.expose_secret(), 1)
        .await
        .with_context(|| format!("migrating {key}"))?;
    db.close().await?;
    println!("{key}: migrations applied");
    Ok(())
}

async fn serve(shape: Shape, config: FrevixConfig) -> anyhow::Result<()> {
    let format = match config.log_format {
        LogFormat::Json => telemetry::LogFormat::Json,
        LogFormat::Text => telemetry::LogFormat::Text,
    };
    let telemetry = telemetry::init(&format!("frevix-{}", shape.name()), format)
        .map_err(|e| anyhow::anyhow!("telemetry: {e}"))?;
    let app = App::build(&config, shape).await?;
    let addr = app.local_addr()?;
    if shape == Shape::AllInOne {
        println!(
            "\nFrevix all-in-one is listening on {addr} (gRPC, grpc-web, reflection, health)\n\
             data: {data}   mail (verification codes): {mail}\n\n\
             try:  grpcurl -plaintext {addr} list\n      \
             grpcurl -plaintext -d '{{\"email\":\"ada@example.com\",\"password\":\"correct horse battery\",\"display_name\":\"Ada\",\"roles\":[\"ROLE_CLIENT\"]}}' {addr} frevix.identity.v1.IdentityService/SignUp\n",
            data = config.data_dir.display(),
            mail = config.mail.dir.display(),
        );
    }
    tracing::info!(%addr, shape = shape.name(), "listening");
    let result = app.serve(frevix_platform::server::shutdown_signal()).await;
    tracing::info!("stopped");
    telemetry.shutdown();
    result
}

fn generate_password() -> String {
    use rand::Rng as _;
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
    let mut rng = rand::rngs::OsRng;
    (0..20)
        .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
        .collect()
}
