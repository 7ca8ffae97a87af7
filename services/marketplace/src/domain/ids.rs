//! Marketplace's typed ids: a gig id cannot be passed where a job id is
//! meant. (Accounts are the platform's `AccountId`.)

frevix_platform::typed_id!(
    /// A gig.
    GigId
);
frevix_platform::typed_id!(
    /// A job post.
    JobId
);
frevix_platform::typed_id!(
    /// A freelancer's proposal on a job.
    ProposalId
);
frevix_platform::typed_id!(
    /// A category or subcategory of the catalog.
    CategoryId
);
