process.env.STORK_TEST_STORE = 'pglite';
