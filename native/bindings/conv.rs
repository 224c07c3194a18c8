use crate::napi::{napi_env, napi_value};

pub unsafe fn register(_env: napi_env, _exports: napi_value) {}
