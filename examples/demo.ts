// The demo server started by `npm start`. Filled in as the server lands.
console.log('httpkit demo: the server is not built yet (see the open issues).');
