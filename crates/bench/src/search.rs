//! SearchGigs over a large catalog: 100,000 published gigs from 20,000
//! freelancer profiles, written straight into marketplace's tables, then
//! searched through the gRPC API with a keyword and two filters — p50/p99
//! at one client and requests/s at 16 clients, on PostgreSQL and SQLite.

use std::time::{Duration, Instant};

use chrono::Utc;
use frevix_marketplace::domain::catalog::{SEED_CATEGORIES, id_of, slugify};
use frevix_marketplace::store::entities::{freelancer_profiles, gigs};
use frevix_proto::common::v1::Money;
use frevix_proto::marketplace::v1 as pb;
use frevix_testkit::{Backend, TestApp};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sea_orm::{ActiveValue::Set, EntityTrait, TransactionTrait};
use uuid::Uuid;

const GIGS: usize = 100_000;
const PROFILES: usize = 20_000;
const WORDS: &[&str] = &[
    "rust",
    "python",
    "react",
    "logo",
    "brand",
    "video",
    "seo",
    "wordpress",
    "shopify",
    "api",
    "mobile",
    "ios",
    "android",
    "data",
    "dashboard",
    "landing",
    "page",
    "website",
    "design",
    "illustration",
    "copywriting",
    "translation",
    "podcast",
    "editing",
    "animation",
    "cloud",
    "kubernetes",
    "devops",
    "database",
    "marketing",
    "email",
    "newsletter",
    "ecommerce",
    "store",
    "app",
    "backend",
    "frontend",
    "fullstack",
    "automation",
    "scraper",
];
const COUNTRIES: &[&str] = &["US", "DE", "PT", "IN", "BR", "GB", "FR", "PL", "UA", "NG"];

fn subcategories() -> Vec<Uuid> {
    SEED_CATEGORIES
        .iter()
        .flat_map(|(_, children)| children.iter().map(|c| id_of(&slugify(c))))
        .collect()
}

async fn fill(app: &TestApp) {
    let url = secrecy::ExposeSecret::expose_secret(&app.config.marketplace.database.url).to_owned();
    let db = frevix_platform::db::connect_and_migrate::<frevix_marketplace::Migrator>(&url, 4)
        .await
        .unwrap();
    let mut rng = StdRng::seed_from_u64(7);
    let now = Utc::now();
    let sellers: Vec<Uuid> = (0..PROFILES).map(|_| Uuid::now_v7()).collect();
    for chunk in sellers.chunks(1000) {
        let rows = chunk.iter().map(|id| freelancer_profiles::ActiveModel {
            account_id: Set(*id),
            display_name: Set(format!("Seller {}", &id.simple().to_string()[..6])),
            headline: Set(String::new()),
            bio: Set(String::new()),
            skills: Set("[]".into()),
            hourly_rate_currency: Set(None),
            hourly_rate_minor: Set(None),
            experience_level: Set(0),
            languages: Set("[\"en\"]".into()),
            country: Set(COUNTRIES[rng.gen_range(0..COUNTRIES.len())].into()),
            availability: Set(1),
            back_on: Set(None),
            portfolio: Set("[]".into()),
            avatar_media_id: Set(None),
            rating_sum: Set(0),
            review_count: Set(0),
            completed_contracts: Set(0),
            created_at: Set(now),
            updated_at: Set(now),
        });
        freelancer_profiles::Entity::insert_many(rows.collect::<Vec<_>>())
            .exec_without_returning(&db)
            .await
            .unwrap();
    }
    let categories = subcategories();
    for batch in 0..GIGS / 1000 {
        let txn = db.begin().await.unwrap();
        let rows: Vec<gigs::ActiveModel> = (0..1000)
            .map(|_| {
                let words: Vec<&str> = (0..4)
                    .map(|_| WORDS[rng.gen_range(0..WORDS.len())])
                    .collect();
                let price = rng.gen_range(10..2_000) * 500;
                let days = rng.gen_range(1..30);
                let reviews = rng.gen_range(0..40);
                gigs::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    seller_id: Set(sellers[rng.gen_range(0..sellers.len())]),
                    title: Set(format!(
                        "I will do {} {} {} work",
                        words[0], words[1], words[2]
                    )),
                    description: Set(format!(
                        "Professional {} and {} services, fast and reliable.",
                        words[3], words[1]
                    )),
                    category_id: Set(categories[rng.gen_range(0..categories.len())]),
                    tags: Set(format!("[\"{}\",\"{}\"]", words[0], words[3])),
                    packages: Set("[]".into()),
                    extras: Set("[]".into()),
                    requirements: Set("[]".into()),
                    gallery: Set("[]".into()),
                    status: Set("PUBLISHED".into()),
                    currency: Set("USD".into()),
                    min_price_minor: Set(price),
                    min_delivery_days: Set(days),
                    rating_sum: Set(reviews * rng.gen_range(3..=5)),
                    review_count: Set(i32::try_from(reviews).unwrap()),
                    created_at: Set(now),
                    updated_at: Set(now),
                    published_at: Set(Some(now)),
                }
            })
            .collect();
        gigs::Entity::insert_many(rows)
            .exec_without_returning(&txn)
            .await
            .unwrap();
        txn.commit().await.unwrap();
        if batch % 20 == 19 {
            eprintln!("  … {} gigs", (batch + 1) * 1000);
        }
    }
    // Bulk loads leave the planner without statistics until autovacuum
    // comes by; a production database has them.
    sea_orm::ConnectionTrait::execute_unprepared(&db, "ANALYZE")
        .await
        .unwrap();
    db.close().await.unwrap();
}

fn request(rng: &mut StdRng, top_level: &[String]) -> pb::SearchGigsRequest {
    pb::SearchGigsRequest {
        query: WORDS[rng.gen_range(0..WORDS.len())].into(),
        category_id: top_level[rng.gen_range(0..top_level.len())].clone(),
        max_price: Some(Money {
            currency_code: "USD".into(),
            minor_units: 50_000,
        }),
        ..Default::default()
    }
}

pub async fn run(backend: Backend) {
    let started = Instant::now();
    let app = TestApp::spawn(backend).await;
    fill(&app).await;
    println!(
        "search    {backend:?}: {GIGS} gigs, {PROFILES} profiles generated in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    let top_level: Vec<String> = app
        .marketplace
        .clone()
        .list_categories(pb::ListCategoriesRequest {})
        .await
        .unwrap()
        .into_inner()
        .categories
        .into_iter()
        .map(|c| c.id)
        .collect();
    let mut rng = StdRng::seed_from_u64(11);
    let mut client = app.marketplace.clone();
    for _ in 0..20 {
        client
            .search_gigs(request(&mut rng, &top_level))
            .await
            .unwrap();
    }
    let mut latencies = Vec::new();
    let mut results = 0u64;
    for _ in 0..300 {
        let sent = Instant::now();
        let answer = client
            .search_gigs(request(&mut rng, &top_level))
            .await
            .unwrap()
            .into_inner();
        latencies.push(sent.elapsed());
        results += u64::try_from(answer.total).unwrap_or(0);
    }
    latencies.sort();
    let at =
        |q: f64| latencies[((latencies.len() as f64 - 1.0) * q) as usize].as_secs_f64() * 1000.0;
    println!(
        "search    {backend:?} one client (keyword + category + max price, facets, 20 a page): p50 {:.1} ms   p99 {:.1} ms   (avg {} matches)",
        at(0.5),
        at(0.99),
        results / 300
    );

    let deadline = Instant::now() + Duration::from_secs(5);
    let begun = Instant::now();
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let mut client = app.marketplace.clone();
            let top_level = top_level.clone();
            tokio::spawn(async move {
                let mut rng = StdRng::seed_from_u64(100 + i);
                let mut done = 0u64;
                while Instant::now() < deadline {
                    client
                        .search_gigs(request(&mut rng, &top_level))
                        .await
                        .unwrap();
                    done += 1;
                }
                done
            })
        })
        .collect();
    let mut total = 0;
    for task in tasks {
        total += task.await.unwrap();
    }
    println!(
        "search    {backend:?} 16 clients: {:.0} requests/s",
        total as f64 / begun.elapsed().as_secs_f64()
    );
    app.stop().await;
}
