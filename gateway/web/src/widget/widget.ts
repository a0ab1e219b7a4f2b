export {};
console.log('widget');
