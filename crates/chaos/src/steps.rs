//! A step of a contract the way a careful app takes it: look at the
//! contract, act only if it is not there yet, and after a refusal look
//! again — an earlier attempt whose answer died with its process may have
//! done it. A step that is refused with the contract unchanged fails the
//! saga, with the refusal.

use std::future::Future;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail};
use frevix_proto::contracts::v1::{
    self as pb, Contract, contract_service_client::ContractServiceClient,
};
use tonic::transport::Channel;
use tonic::{Code, Status};

use crate::api::{Api, authed};
use crate::people::Person;

const PATIENCE: Duration = Duration::from_secs(180);
/// How long a refusal may last before the step fails: long enough for
/// another service's event to arrive across a restart.
const REFUSALS_FOR: Duration = Duration::from_secs(60);

/// The contract as `who` sees it now.
pub async fn contract(api: &Api, who: &Person, id: &str) -> anyhow::Result<Contract> {
    let request = pb::GetContractRequest {
        contract_id: id.into(),
    };
    api.call("GetContract", &[Code::NotFound], |channel| {
        let request = authed(&who.token, None, request.clone());
        async move {
            ContractServiceClient::new(channel)
                .get_contract(request)
                .await
        }
    })
    .await
    .map_err(|status| anyhow!("GetContract {id}: {status:?}"))?
    .contract
    .ok_or_else(|| anyhow!("GetContract {id} answered no contract"))
}

/// The contract once `reached` holds (another service's event has come).
pub async fn wait(
    api: &Api,
    who: &Person,
    id: &str,
    what: &str,
    reached: impl Fn(&Contract) -> bool,
) -> anyhow::Result<Contract> {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let seen = contract(api, who, id).await?;
        if reached(&seen) {
            return Ok(seen);
        }
        if Instant::now() > deadline {
            bail!(
                "contract {id} never reached {what}: it is {:?}, its milestone {:?}",
                pb::ContractStatus::try_from(seen.status),
                milestone(&seen).map(|m| pb::MilestoneStatus::try_from(m.status))
            );
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// `act` until `reached` holds for the contract.
pub async fn until<T, Fut>(
    api: &Api,
    who: &Person,
    id: &str,
    rpc: &'static str,
    reached: impl Fn(&Contract) -> bool,
    mut act: impl FnMut(Channel) -> Fut,
) -> anyhow::Result<Contract>
where
    Fut: Future<Output = Result<tonic::Response<T>, Status>>,
{
    let deadline = Instant::now() + REFUSALS_FOR;
    loop {
        let seen = contract(api, who, id).await?;
        if reached(&seen) {
            return Ok(seen);
        }
        match api.call(rpc, &[Code::NotFound], &mut act).await {
            Ok(_) => {}
            // Done already, or not yet possible (an event on its way).
            Err(status)
                if matches!(
                    status.code(),
                    Code::FailedPrecondition | Code::AlreadyExists | Code::Aborted
                ) && Instant::now() < deadline =>
            {
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            Err(status) => bail!(
                "{rpc} on {id}: {:?} {} (the contract {:?}, its milestone {:?})",
                status.code(),
                status.message(),
                pb::ContractStatus::try_from(seen.status),
                milestone(&seen).map(|m| pb::MilestoneStatus::try_from(m.status))
            ),
        }
    }
}

pub fn milestone(contract: &Contract) -> Option<&pb::Milestone> {
    contract.milestones.first()
}

/// The first milestone is at least as far as one of `statuses`.
pub fn milestone_is(contract: &Contract, statuses: &[pb::MilestoneStatus]) -> bool {
    milestone(contract).is_some_and(|m| statuses.iter().any(|s| m.status == *s as i32))
}

pub fn status_is(contract: &Contract, status: pb::ContractStatus) -> bool {
    contract.status == status as i32
}
