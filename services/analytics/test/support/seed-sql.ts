// The seed's analytics SQL lives in @dibs/testing (one verbatim copy for every test).
export { SEED_FALLBACK_EFFECTIVENESS, SEED_RESPONSE_TIMES, SEED_SUCCESS_RATE, SEED_TIMEOUT_RATE } from '@dibs/testing';
