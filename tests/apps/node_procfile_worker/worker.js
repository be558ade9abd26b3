// A queue consumer's stand-in: it polls (here, a timer) and says what it did.
let ticks = 0;
setInterval(() => {
  ticks += 1;
  console.log(`worker tick ${ticks}`);
}, 100);
process.on('SIGTERM', () => {
  console.log('worker stopping');
  process.exit(0);
});
