process.env.STORK_TEST_STORE = 'postgres';
