//! Contracts' typed ids (accounts are the platform's `AccountId`).

frevix_platform::typed_id!(
    /// A contract: a gig order or a job contract.
    ContractId
);
frevix_platform::typed_id!(
    /// A milestone of a contract (a gig order has one).
    MilestoneId
);
frevix_platform::typed_id!(
    /// A request to cancel a contract.
    CancellationId
);
frevix_platform::typed_id!(
    /// A dispute over a contract's escrow.
    DisputeId
);
