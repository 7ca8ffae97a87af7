//! The pgbench baselines of the contracts benchmark: the shape
//! (one row updated, two inserted), and PlaceOrder's and ApproveMilestone's
//! own statements on the real tables, so a ratio tells Frevix's cost apart
//! from the cost of the statements a step needs.

use sea_orm::ConnectionTrait;

const SECONDS: u64 = super::SECONDS;

/// Transactions/s of pgbench running the shape of an order or an
/// approval: one row updated, two inserted (the timeline, the outbox).
pub async fn pgbench(url: &str) -> f64 {
    let db = sea_orm::Database::connect(url).await.unwrap();
    for statement in [
        "CREATE TABLE IF NOT EXISTS bench_contracts (id int PRIMARY KEY, status text NOT NULL, updated_at timestamptz NOT NULL)",
        "CREATE TABLE IF NOT EXISTS bench_timeline (id uuid PRIMARY KEY, contract_id int NOT NULL, action text NOT NULL, at timestamptz NOT NULL)",
        "CREATE TABLE IF NOT EXISTS bench_outbox (seq bigserial PRIMARY KEY, payload bytea NOT NULL, created_at timestamptz NOT NULL)",
        "INSERT INTO bench_contracts SELECT g, 'ACTIVE', now() FROM generate_series(1, 2000) g ON CONFLICT DO NOTHING",
    ] {
        db.execute_unprepared(statement).await.unwrap();
    }
    crate::pgbench::tps(
        url,
        "contract",
        "\\set c random(1, 2000)\n\
         BEGIN;\n\
         UPDATE bench_contracts SET status = 'ACTIVE', updated_at = now() WHERE id = :c;\n\
         INSERT INTO bench_timeline VALUES (gen_random_uuid(), :c, 'MILESTONE_APPROVED', now());\n\
         INSERT INTO bench_outbox (payload, created_at) VALUES ('\\x0a2430313933', now());\n\
         END;\n",
        SECONDS,
    )
    .await
}

/// Transactions/s of pgbench running PlaceOrder's own statements on the
/// real tables (their columns and indexes): the gig read, then the
/// contract, its milestone, the order, the timeline entry and the outbox
/// row inserted in one transaction. Its outbox rows are born published, so
/// the relay leaves them alone.
pub async fn place_order(url: &str) -> f64 {
    crate::pgbench::tps(
        url,
        "place-order",
        "\\set c random(1, 9000000000000000)\n\
         SELECT status FROM gigs WHERE id = md5(:c || 'g')::uuid;\n\
         BEGIN;\n\
         INSERT INTO contracts (id, kind, status, client_id, freelancer_id, title, currency, total_minor, gig_id, paused, created_at, updated_at, stage) VALUES (md5(:c || 'c')::uuid, 'GIG_ORDER', 'PENDING_FUNDING', md5(:c || 'b')::uuid, md5(:c || 's')::uuid, 'A logo', 'USD', 5000, md5(:c || 'g')::uuid, false, now(), now(), 'PENDING_FUNDING');\n\
         INSERT INTO milestones (id, contract_id, position, title, amount_minor, status, funded_minor, released_minor, refunded_minor, revisions_used) VALUES (md5(:c || 'm')::uuid, md5(:c || 'c')::uuid, 1, 'Basic package', 5000, 'PENDING', 0, 0, 0, 0);\n\
         INSERT INTO orders (contract_id, gig_id, package_tier, package_name, quantity, extras, delivery_days, revisions_included) VALUES (md5(:c || 'c')::uuid, md5(:c || 'g')::uuid, 1, 'Basic', 1, '', 3, 1);\n\
         INSERT INTO timeline (id, contract_id, at, actor_id, action, details) VALUES (md5(:c || 't')::uuid, md5(:c || 'c')::uuid, now(), md5(:c || 'b')::uuid, 'ORDER_PLACED', 'Ordered 1 x Basic for USD 50.00');\n\
         INSERT INTO outbox (event_id, subject, event_type, aggregate_id, envelope, created_at, published_at) VALUES (md5(:c || 'e')::uuid, 'frevix.contract.created', 'frevix.contracts.v1.ContractCreated', md5(:c || 'c')::text, '\\x0a2430313933', now(), now());\n\
         END;\n",
        SECONDS,
    )
    .await
}

/// Transactions/s of pgbench running ApproveMilestone's own statements on
/// the real tables, against 2,000 delivered orders made for it: the
/// contract locked, its cancellation, milestones and order read, the
/// milestone and the contract updated, the timeline entry and the outbox
/// row inserted, the review window's timer deleted, and the answer's
/// timeline and deliveries read.
pub async fn approve(url: &str) -> f64 {
    let db = sea_orm::Database::connect(url).await.unwrap();
    for statement in [
        "INSERT INTO contracts (id, kind, status, client_id, freelancer_id, title, currency, total_minor, gig_id, paused, created_at, updated_at, stage) \
         SELECT md5(g || 'ac')::uuid, 'GIG_ORDER', 'ACTIVE', md5(g || 'ab')::uuid, md5(g || 'as')::uuid, 'A logo', 'USD', 5000, md5(g || 'ag')::uuid, false, now(), now(), 'IN_PROGRESS' \
         FROM generate_series(1, 2000) g ON CONFLICT DO NOTHING",
        "INSERT INTO milestones (id, contract_id, position, title, amount_minor, status, funded_minor, released_minor, refunded_minor, revisions_used) \
         SELECT md5(g || 'am')::uuid, md5(g || 'ac')::uuid, 1, 'Basic package', 5000, 'SUBMITTED', 5000, 0, 0, 0 FROM generate_series(1, 2000) g ON CONFLICT DO NOTHING",
        "INSERT INTO orders (contract_id, gig_id, package_tier, package_name, quantity, extras, delivery_days, revisions_included) \
         SELECT md5(g || 'ac')::uuid, md5(g || 'ag')::uuid, 1, 'Basic', 1, '', 3, 1 FROM generate_series(1, 2000) g ON CONFLICT DO NOTHING",
        "INSERT INTO timeline (id, contract_id, at, action, details) \
         SELECT md5(g || 'at' || k)::uuid, md5(g || 'ac')::uuid, now(), 'ORDER_PLACED', 'Ordered' FROM generate_series(1, 2000) g, generate_series(1, 3) k ON CONFLICT DO NOTHING",
        "INSERT INTO deliveries (id, contract_id, milestone_id, message, attachments, submitted_at) \
         SELECT md5(g || 'ad')::uuid, md5(g || 'ac')::uuid, md5(g || 'am')::uuid, 'Here it is.', '', now() FROM generate_series(1, 2000) g ON CONFLICT DO NOTHING",
    ] {
        db.execute_unprepared(statement).await.unwrap();
    }
    crate::pgbench::tps(
        url,
        "approve",
        "\\set c random(1, 2000)\n\
         BEGIN;\n\
         SELECT * FROM contracts WHERE id = md5(:c || 'ac')::uuid FOR UPDATE;\n\
         SELECT * FROM cancellations WHERE contract_id = md5(:c || 'ac')::uuid ORDER BY id DESC LIMIT 1;\n\
         SELECT * FROM milestones WHERE contract_id = md5(:c || 'ac')::uuid ORDER BY position;\n\
         SELECT * FROM orders WHERE contract_id = md5(:c || 'ac')::uuid;\n\
         UPDATE milestones SET status = 'SUBMITTED', funded_minor = 5000 WHERE id = md5(:c || 'am')::uuid AND status = 'SUBMITTED';\n\
         UPDATE contracts SET status = 'ACTIVE', stage = 'IN_PROGRESS', updated_at = now() WHERE id = md5(:c || 'ac')::uuid;\n\
         INSERT INTO timeline (id, contract_id, at, actor_id, action, milestone_id, details) VALUES (gen_random_uuid(), md5(:c || 'ac')::uuid, now(), md5(:c || 'ab')::uuid, 'MILESTONE_APPROVED', md5(:c || 'am')::uuid, 'Approved');\n\
         DELETE FROM timers WHERE kind = 'milestone.auto_approve' AND subject = md5(:c || 'am');\n\
         INSERT INTO outbox (event_id, subject, event_type, aggregate_id, envelope, created_at, published_at) VALUES (gen_random_uuid(), 'frevix.contract.milestone_approved', 'frevix.contracts.v1.MilestoneApproved', md5(:c || 'ac'), '\\x0a2430313933', now(), now());\n\
         SELECT * FROM timeline WHERE contract_id = md5(:c || 'ac')::uuid ORDER BY id;\n\
         SELECT * FROM deliveries WHERE contract_id = md5(:c || 'ac')::uuid ORDER BY id;\n\
         END;\n",
        SECONDS,
    )
    .await
}
