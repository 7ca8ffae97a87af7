//! The live-caller check every authenticated identity call starts with,
//! under a crowd: 48 GetMe calls at once from 6 accounts (on PostgreSQL the
//! checks of concurrent calls are answered together, a batch per statement)
//! each get their caller's own account, and a session ended in the database
//! alone (as another replica ends it, before this one's deny list hears of
//! it) is refused in the middle of the same crowd.

use chrono::Utc;
use frevix_identity::store::entities::sessions;
use frevix_proto::identity::v1 as pb;
use frevix_testkit::status::reason;
use frevix_testkit::{Backend, TestApp, authed, on_both_backends};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Database, EntityTrait, QueryFilter};
use secrecy::ExposeSecret;
use tonic::Code;

const ACCOUNTS: usize = 6;
const CALLS: usize = 48;

async fn a_crowd_of_callers_each_get_their_own_account(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut users = Vec::new();
    for _ in 0..ACCOUNTS {
        users.push(app.register().await);
    }
    let ended = &users[ACCOUNTS - 1];
    let db = Database::connect(app.config.identity.database.url.expose_secret())
        .await
        .unwrap();
    let session: uuid::Uuid = ended.session_id.parse().unwrap();
    let updated = sessions::Entity::update_many()
        .col_expr(sessions::Column::RevokedAt, Expr::value(Utc::now()))
        .filter(sessions::Column::Id.eq(session))
        .exec(&db)
        .await
        .unwrap();
    assert_eq!(updated.rows_affected, 1);

    let calls: Vec<_> = (0..CALLS)
        .map(|i| {
            let user = users[i % ACCOUNTS].clone();
            let mut identity = app.identity.clone();
            tokio::spawn(async move {
                let answer = identity
                    .get_me(authed(&user.access_token, pb::GetMeRequest {}))
                    .await;
                (user, answer)
            })
        })
        .collect();
    for call in calls {
        let (user, answer) = call.await.unwrap();
        if user.session_id == ended.session_id {
            let refused = answer.unwrap_err();
            assert_eq!(refused.code(), Code::Unauthenticated);
            assert_eq!(reason(&refused), "SESSION_REVOKED");
        } else {
            let account = answer.unwrap().into_inner().account.unwrap();
            assert_eq!(account.id, user.account_id);
            assert_eq!(account.email, user.email);
        }
    }
}

on_both_backends!(a_crowd_of_callers_each_get_their_own_account);
