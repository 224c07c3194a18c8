pub mod channels;
#[cfg(target_arch = "x86_64")]
pub mod lanes;
#[cfg(target_arch = "x86_64")]
pub mod lanes_wgrad;
pub mod channels_wgrad;
