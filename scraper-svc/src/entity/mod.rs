pub mod scrape_run;
