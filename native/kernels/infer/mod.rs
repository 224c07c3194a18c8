pub mod dense;
pub mod max_pool;
